import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { type CommitResult, emptyBatch, isBatchEmpty, type NewRun, type RunRecord, type Store, type Transition, type WriteBatch } from "../store/store.js";
import { commitRefusal } from "./commit-refusal.js";
import type { Session } from "./lease-table.js";

/**
 * A write a caller waits for (schedule, cancel, a foreground record): if its commit fails it
 * is taken out of the batch and the caller is told at once, never retried behind its back.
 */
interface CallerWrite {
  inserts: NewRun[];
  transitions: Transition[];
  after: (result: CommitResult, batch: WriteBatch) => void;
  fail: (error: ConnectError) => void;
}

/** Everything gathered for the next commit. */
export interface PendingWork {
  batch: WriteBatch;
  /** Told once the batch is committed; these writes are retried until it is. */
  after: ((result: CommitResult, batch: WriteBatch) => void)[];
  callers: CallerWrite[];
  /** Each changed run as it will be once committed, so watchers need no read back. */
  snapshots: Map<string, RunRecord>;
  /** RUNNING transitions not written yet: a result in the same batch absorbs them. */
  started: Map<string, Transition>;
  /** Heartbeats not written yet: per worker stream, the tokens named and their new deadline. */
  heartbeats: Map<Session, { tokens: Set<string>; deadline: number }>;
  /** Keys with runs due, for the other servers to hear once committed (store/change-feed.ts). */
  dueKeys: Set<string>;
  /** A leased run under a concurrency limit ended: runs it held back may go. */
  limitsFreed: boolean;
}

function emptyWork(): PendingWork {
  return {
    batch: emptyBatch(),
    after: [],
    callers: [],
    snapshots: new Map(),
    started: new Map(),
    heartbeats: new Map(),
    dueKeys: new Set(),
    limitsFreed: false,
  };
}

export interface GroupCommitHooks {
  /** Whether a commit is wanted with nothing queued: a dispatch to plan. */
  wanted(): boolean;
  /** The server is shutting down: nothing waits for company any more. */
  closing(): boolean;
  /** Something failed: the dispatch is to be planned afresh. */
  retry(): void;
  /**
   * Adds to the batch what the commit carries besides the queued writes (claims, changes).
   * Returns what to do once it is committed, after the writers were told.
   */
  prepare(work: PendingWork): (result: CommitResult) => Promise<void>;
}

export interface GroupCommit {
  /** What the next commit will carry; writers add to it. */
  readonly pending: PendingWork;
  /** What the commit in flight carries, while one is. */
  readonly committing: PendingWork | undefined;
  /** Queues a write; with `failed`, a caller's write that fails at once when its commit does. */
  write(
    fill: (batch: WriteBatch) => void,
    after?: (result: CommitResult, batch: WriteBatch) => void,
    failed?: (error: ConnectError) => void,
  ): void;
  /** Commits in the next turn of the event loop (once: later calls in this turn join it). */
  queueFlush(): void;
  /** Commits whatever is left, trying for up to `ms`; then tells waiting callers it was not. */
  drain(ms: number): Promise<void>;
  readonly counters: { commitsTotal: number; runsScheduledTotal: number; claimsTotal: number };
}

/** How long a RUNNING transition may wait for company before it is committed alone. */
const STARTED_WRITE_DELAY_MS = 50;

/**
 * Group commit: writes gathered during one turn of the event loop are committed together
 * (one transaction, one fsync), then every writer involved is told. A failed commit refuses
 * its callers at once and retries the rest with a backoff.
 */
export function createGroupCommit(options: { store: Store; logger: Logger; clock: () => number; hooks: GroupCommitHooks }): GroupCommit {
  const { store, logger, clock: now, hooks } = options;
  let pending = emptyWork();
  let startedTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = 0;
  let commitFailures = 0;
  let startedDue = false;
  let flushQueued = false;
  /** The work of the commit in flight, if one is. */
  let committing: PendingWork | undefined;
  let draining = false;
  const counters = { commitsTotal: 0, runsScheduledTotal: 0, claimsTotal: 0 };

  function hasPendingWrites(): boolean {
    return !isBatchEmpty(pending.batch) || pending.started.size > 0 || pending.heartbeats.size > 0;
  }

  function queueFlush(): void {
    if (flushQueued || committing) return;
    flushQueued = true;
    setImmediate(flushFromLoop);
  }

  /**
   * A flush nobody awaits. A failed commit is retried inside it and a failed read for the
   * watchers read again later; anything else it throws after its commit (a watcher's or a
   * worker's channel) is logged and the dispatch planned afresh 1 s later, instead of
   * ending the process as an unhandled rejection.
   */
  function flushFromLoop(): void {
    flush().catch((error: unknown) => {
      logger.error({ err: error }, "flush failed; trying again in 1 s");
      hooks.retry();
      retryAt = Math.max(retryAt, now() + 1_000);
      queueFlush();
    });
  }

  async function flush(): Promise<void> {
    flushQueued = false;
    if (committing) return;
    // RUNNING alone is worth no fsync: it waits (up to STARTED_WRITE_DELAY_MS) for a result
    // or another write to travel with. Started and Completed of a short task then cost one
    // UPDATE in one commit, even when they arrive in separate messages.
    if (isBatchEmpty(pending.batch) && !hooks.wanted() && !hooks.closing() && !draining && !startedDue && pending.started.size > 0) {
      startedTimer ??= setTimeout(() => {
        startedDue = true;
        queueFlush();
      }, STARTED_WRITE_DELAY_MS);
      return;
    }
    clearTimeout(startedTimer);
    startedTimer = undefined;
    startedDue = false;
    // A caller's write does not wait out the backoff: it is tried now, and told now.
    if (now() < retryAt && pending.callers.length === 0) {
      retryTimer ??= setTimeout(() => {
        retryTimer = undefined;
        queueFlush();
      }, retryAt - now());
      return;
    }
    const work = pending;
    pending = emptyWork();
    work.batch.transitions.push(...work.started.values());
    // One statement per worker stream, whatever the number of leases it named.
    for (const [session, beat] of work.heartbeats) {
      work.batch.extensions.push({ sessionId: session.sessionId, tokens: [...beat.tokens], deadline: beat.deadline, at: now() });
    }
    const committed = hooks.prepare(work);
    if (isBatchEmpty(work.batch)) return;
    committing = work;
    let result: CommitResult;
    try {
      result = await store.commit(work.batch);
    } catch (error) {
      committing = undefined;
      retryFailedWork(work, error);
      return;
    }
    committing = undefined;
    commitFailures = 0;
    counters.commitsTotal++;
    counters.runsScheduledTotal += result.inserted.filter((r) => !r.existing).length;
    for (const claimed of result.claimed) counters.claimsTotal += claimed.length;
    // Acks first: a worker sees its result acknowledged before the run that takes its slot.
    for (const after of work.after) after(result, work.batch);
    // Then the runs granted (committed() sends them before its first await), then the
    // callers: a delay() answered first put its answer's write ahead of the assignment
    // that the round trip to its result waits for (W2: about 0.1 ms).
    const watchersTold = committed(result);
    for (const caller of work.callers) caller.after(result, work.batch);
    await watchersTold;
    if (hooks.wanted() || hasPendingWrites()) queueFlush();
  }

  /**
   * A commit failed (disk full, I/O error, the database file gone). Callers' writes are
   * dropped and their callers told at once: a caller that gave up must never find its write
   * committed later. The rest (results, lease and retry transitions, logs) must not be lost:
   * it goes back in front of what came since and is retried with a backoff (0.1 s doubling
   * to 5 s), which also finds out when the disk has room again. Claims are planned afresh.
   */
  function retryFailedWork(work: PendingWork, error: unknown): void {
    commitFailures++;
    const delay = Math.min(100 * 2 ** (commitFailures - 1), 5_000);
    const refused = work.callers.length;
    if (refused > 0) {
      const dropped = new Set<NewRun | Transition>(work.callers.flatMap((c) => [...c.inserts, ...c.transitions]));
      work.batch.inserts = work.batch.inserts.filter((insert) => !dropped.has(insert));
      work.batch.transitions = work.batch.transitions.filter((t) => !dropped.has(t));
      const refusal = commitRefusal(error, store.location);
      for (const caller of work.callers) caller.fail(refusal);
      work.callers = [];
    }
    logger.error({ err: error, retryInMs: delay, failures: commitFailures, refusedCallers: refused }, "commit failed; callers refused, the rest retried");
    work.batch.claims = [];
    const next = pending;
    pending = work;
    pending.batch.inserts.push(...next.batch.inserts);
    pending.batch.transitions.push(...next.batch.transitions);
    pending.batch.logs.push(...next.batch.logs);
    pending.batch.extensions.push(...next.batch.extensions);
    pending.after.push(...next.after);
    pending.callers.push(...next.callers);
    for (const [id, run] of next.snapshots) pending.snapshots.set(id, run);
    // Started transitions already moved into the batch; later ones still merge from here.
    pending.started = next.started;
    pending.heartbeats = next.heartbeats;
    for (const key of next.dueKeys) pending.dueKeys.add(key);
    pending.limitsFreed ||= next.limitsFreed;
    hooks.retry();
    retryAt = now() + delay;
    queueFlush();
  }

  return {
    get committing() {
      return committing;
    },
    get pending() {
      return pending;
    },
    write(fill, after, failed) {
      const { inserts, transitions } = pending.batch;
      const [insertsBefore, transitionsBefore] = [inserts.length, transitions.length];
      fill(pending.batch);
      if (failed && after) {
        pending.callers.push({
          inserts: inserts.slice(insertsBefore),
          transitions: transitions.slice(transitionsBefore),
          after,
          fail: failed,
        });
      } else if (after) {
        pending.after.push(after);
      }
      queueFlush();
    },
    queueFlush,
    async drain(ms) {
      draining = true;
      // Bounded: a store that keeps failing must not keep the process from exiting.
      const giveUpAt = now() + ms;
      while ((committing || hasPendingWrites()) && now() < giveUpAt) {
        if (!committing && now() >= retryAt) await flush();
        else await new Promise((r) => setTimeout(r, 5));
      }
      clearTimeout(retryTimer);
      clearTimeout(startedTimer);
      if (hasPendingWrites()) {
        logger.error("shut down with writes the store would not take; their runs are re-queued at the next start");
        const error = new ConnectError("the server shut down before it could store this", Code.Unavailable);
        for (const caller of pending.callers) caller.fail(error);
      }
    },
    counters,
  };
}
