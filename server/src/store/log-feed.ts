import type { LogRecord, Store, WriteBatch } from "./store.js";

export interface LogFeed {
  /** The store to hand to the broker: its commits are reported to the listeners. */
  readonly store: Store;
  /** Calls `listener` with the log lines of every commit that stored some; returns the unsubscribe. */
  onLogs(listener: (lines: readonly LogRecord[]) => void): () => void;
}

/**
 * Log lines as they become durable, for `FollowTaskRunLogs`: the store's `commit` is wrapped
 * so that each committed batch's lines go to the listeners before the broker hears the
 * commit returned, hence before it tells anyone the run ended. Nothing is read back and
 * nothing polls; with no listener the cost is one length check per commit.
 */
export function createLogFeed(inner: Store): LogFeed {
  const listeners = new Set<(lines: readonly LogRecord[]) => void>();

  async function commit(batch: WriteBatch) {
    const result = await inner.commit(batch);
    if (listeners.size > 0) {
      const lines = [...batch.logs];
      // An idempotency key that matched an existing run inserted nothing, its lines neither.
      batch.inserts.forEach((run, i) => {
        if (!result.inserted[i]?.existing) lines.push(...run.logs);
      });
      if (lines.length > 0) for (const listener of listeners) listener(lines);
    }
    return result;
  }

  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "commit") return commit;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store,
    onLogs(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
