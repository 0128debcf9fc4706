/**
 * The change feed: how one server tells the others what changed in the store, so that
 * nobody polls. A server hears every change made through the others (never its own):
 *
 * - `due`: runs of these task keys became due (scheduled, re-queued, retried): a server
 *   whose workers serve a key it had found dry claims again.
 * - `wakeAt`: a run is scheduled for this later time: the wake-up timer comes no later.
 * - `changed`: these runs changed state: their watchers (futures, watch streams) are told.
 * - `cancels`: cancel was asked for these leased runs: the server holding the lease pushes
 *   Cancel to its worker.
 * - `limits`: a concurrency limit was set or deleted, or a leased run under a limit ended:
 *   runs a limit held back may go now.
 *
 * SQLite serves one server per file, so its feed is an in-process emitter. PostgreSQL's is
 * LISTEN/NOTIFY (postgres-change-feed.ts); a change written by a commit is notified inside
 * that commit's transaction, so it is heard only once committed, and always then.
 */
export interface Changes {
  due?: string[];
  wakeAt?: number;
  changed?: string[];
  cancels?: { runId: string; reason: string }[];
  limits?: boolean;
  /**
   * Heard only locally: the feed was interrupted (its connection broke) and may have missed
   * changes, so every key may have due runs and every watched run may have changed.
   */
  resync?: boolean;
}

export interface ChangeFeed {
  /** Tells the other servers, from server `origin` (outside a commit: a cancel, a limit). */
  publish(origin: string, changes: Changes): Promise<void>;
  /** Changes made through servers other than `self`. Resolves once listening; gives the unsubscribe. */
  subscribe(self: string, listener: (changes: Changes) => void): Promise<() => Promise<void>>;
}

/** What a message of the feed may hold: PostgreSQL refuses NOTIFY payloads from 8,000 bytes. */
export const MAX_CHANGE_PAYLOAD_BYTES = 7_900;

/**
 * What the other servers are to hear of leases that a server re-queued: the keys of runs
 * due again, the earliest retry scheduled for later, the runs changed (their watchers), and
 * that slots under concurrency limits may have freed.
 */
export function changesOfExpiry(runs: readonly { id: string; taskKey: string; state: string; scheduledAt: number }[], now: number): Changes {
  const due = new Set<string>();
  let wakeAt: number | undefined;
  for (const run of runs) {
    if (run.state !== "SCHEDULED") continue;
    if (run.scheduledAt <= now) due.add(run.taskKey);
    else wakeAt = Math.min(wakeAt ?? run.scheduledAt, run.scheduledAt);
  }
  return { due: [...due], wakeAt, changed: runs.map((run) => run.id), limits: runs.length > 0 };
}

export function isEmptyChanges(changes: Changes): boolean {
  return (
    !changes.due?.length && changes.wakeAt === undefined && !changes.changed?.length && !changes.cancels?.length && !changes.limits
  );
}

/**
 * The changes as payloads of at most MAX_CHANGE_PAYLOAD_BYTES each, stamped with the
 * sending server's id (a server ignores its own). Lists too long for one are split; a
 * single item too long (a cancel reason of 8 kB) is cut short.
 */
export function encodeChanges(origin: string, changes: Changes): string[] {
  const payloads: string[] = [];
  const head = { o: origin };
  let current: Record<string, unknown> = { ...head };
  let size = JSON.stringify(current).length;
  const flush = () => {
    if (Object.keys(current).length > 1) payloads.push(JSON.stringify(current));
    current = { ...head };
    size = JSON.stringify(current).length;
  };
  const add = (field: string, item: unknown, isList: boolean) => {
    const itemSize = Buffer.byteLength(JSON.stringify(item)) + field.length + 6;
    if (size + itemSize > MAX_CHANGE_PAYLOAD_BYTES) flush();
    if (isList) ((current[field] ??= []) as unknown[]).push(item);
    else current[field] = item;
    size += itemSize;
  };
  for (const key of changes.due ?? []) add("d", key, true);
  if (changes.wakeAt !== undefined) add("w", changes.wakeAt, false);
  for (const id of changes.changed ?? []) add("r", id, true);
  for (const c of changes.cancels ?? []) add("c", [c.runId, c.reason.slice(0, 1_000)], true);
  if (changes.limits) add("l", 1, false);
  flush();
  return payloads;
}

/** A payload from another server, or undefined for one of this server's own (or unreadable). */
export function decodeChanges(self: string, payload: string): Changes | undefined {
  try {
    const raw = JSON.parse(payload) as { o: string; d?: string[]; w?: number; r?: string[]; c?: [string, string][]; l?: number };
    if (raw.o === self) return undefined;
    return {
      due: raw.d,
      wakeAt: raw.w,
      changed: raw.r,
      cancels: raw.c?.map(([runId, reason]) => ({ runId, reason })),
      limits: raw.l === 1,
    };
  } catch {
    return undefined;
  }
}

/**
 * The feed of a store that one server serves alone (SQLite): an in-process emitter. Every
 * change is made through that one server, which acts on it already, so its subscribers
 * hear only servers other than themselves: none, unless a test opens two brokers on it.
 */
export function createLocalChangeFeed(): ChangeFeed {
  const listeners = new Map<(changes: Changes) => void, string>();
  return {
    async publish(origin, changes) {
      for (const [listener, self] of listeners) if (self !== origin) listener(changes);
    },
    async subscribe(self, listener) {
      listeners.set(listener, self);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
}
