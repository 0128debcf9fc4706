import type { Logger } from "pino";
import type { CommitResult, RunRecord, Store, WriteBatch } from "../store/store.js";

/** Told of runs created or changed, as they are after the change. */
export type RunsListener = (runs: RunRecord[]) => void;

/**
 * The live views of the web UI (and any other watcher of lists): fed by the broker after
 * each commit, it reads the changed runs once for all its listeners, and tells log
 * listeners which runs got new lines.
 */
export interface RunChangeFeed {
  /** The broker's hook: never throws, costs nothing while nobody listens. */
  committed(batch: WriteBatch, result: CommitResult): void;
  /**
   * Runs another server of the database created or changed (heard from the change feed on
   * PostgreSQL). "all" (the feed was interrupted) is not read again: a list catches up on
   * its runs' next change.
   */
  changedElsewhere(runIds: readonly string[] | "all"): void;
  onRuns(listener: RunsListener): () => void;
  /** `listener` is called after lines of this run were committed. */
  onLogs(runId: string, listener: () => void): () => void;
  close(): void;
}

/**
 * Changes gathered for this long are read together: under load the broker commits every
 * few milliseconds, and one read per 100 ms keeps the feed's cost flat while a list on a
 * screen still looks instant.
 */
const GATHER_MS = 100;
/** Runs read per gathering at most; a list page shows 50, the rest would only be skipped. */
const MAX_READ = 1_000;

export function createRunChangeFeed({ store, logger }: { store: Store; logger: Logger }): RunChangeFeed {
  const runListeners = new Set<RunsListener>();
  const logListeners = new Map<string, Set<() => void>>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  function schedule(): void {
    if (changed.size > 0 && !timer) {
      timer = setTimeout(flush, GATHER_MS);
      timer.unref();
    }
  }

  function flush(): void {
    timer = undefined;
    const ids = [...changed].slice(-MAX_READ);
    changed.clear();
    store.getRuns(ids).then(
      (runs) => {
        for (const listener of runListeners) listener(runs);
      },
      (error: unknown) => logger.warn({ err: error, runs: ids.length }, "could not read changed runs for the live list"),
    );
  }

  return {
    committed(batch, result) {
      try {
        for (const line of batch.logs) for (const listener of logListeners.get(line.runId) ?? []) listener();
        if (runListeners.size === 0) return;
        result.inserted.forEach(({ id, existing }) => existing || changed.add(id));
        batch.transitions.forEach((transition, i) => result.applied[i] && changed.add(transition.runId));
        for (const runs of result.claimed) for (const run of runs) changed.add(run.id);
        schedule();
      } catch (error) {
        logger.warn({ err: error }, "the live list missed a commit");
      }
    },
    changedElsewhere(runIds) {
      if (runListeners.size === 0 || runIds === "all") return;
      for (const id of runIds) changed.add(id);
      schedule();
    },
    close() {
      clearTimeout(timer);
      runListeners.clear();
      logListeners.clear();
    },
    onRuns(listener) {
      runListeners.add(listener);
      return () => runListeners.delete(listener);
    },
    onLogs(runId, listener) {
      let listeners = logListeners.get(runId);
      if (!listeners) logListeners.set(runId, (listeners = new Set()));
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) logListeners.delete(runId);
      };
    },
  };
}
