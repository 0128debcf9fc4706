import { randomBytes } from "node:crypto";
import { randomBytesFromPool } from "../random-pool.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  type CommitResult,
  type ConcurrencyLimitRecord,
  emptyBatch,
  FINAL_STATES,
  isBatchEmpty,
  type LogRecord,
  type NewRun,
  type RunRecord,
  type RunState,
  type Store,
  type StoredError,
  type StoredPayload,
  type Transition,
  type WriteBatch,
} from "../store/store.js";
import { planClaims } from "./claim-plan.js";
import { commitRefusal } from "./commit-refusal.js";
import { createConcurrencyLimits } from "./concurrency-limits.js";
import { createDispatchBudget, DISPATCH_BYTES_PER_WORKER, MAX_RUNS_PER_DISPATCH, MAX_UNSENT_BYTES_FOR_DISPATCH } from "./dispatch-budget.js";
import { retryDelayMs, shouldRetry } from "./retry-policy.js";
import { cancelledTransition as cancelled, leasedRunTransition, lostTransition as lost, retryTransition } from "./run-transitions.js";
import { createStallDetector } from "./stall-detector.js";
import { createWatchRegistry, type Watcher } from "./watch-registry.js";
import type { AckKind, LeaseAck, LeasedRun, LeaseRef, WorkerChannel, WorkerInfo, WorkerSession } from "./worker-channel.js";

export type { AckKind, LeaseAck, LeasedRun, LeaseRef, WorkerChannel, WorkerInfo, WorkerSession } from "./worker-channel.js";

export interface BrokerLimits {
  leaseDurationMs: number;
  heartbeatIntervalMs: number;
  /** An assignment not acknowledged (Started) within this goes back to the queue. */
  ackTimeoutMs: number;
  maxPayloadBytes: number;
  defaultMaxRedeliveries: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  leaseDurationMs: 30_000,
  heartbeatIntervalMs: 5_000,
  ackTimeoutMs: 15_000,
  // 4 MiB less room for the rest of an Assignment: one fits in a gRPC library's default
  // receive limit (see rpc/assignment-size.ts).
  maxPayloadBytes: 4 * 1024 * 1024 - 64 * 1024,
  defaultMaxRedeliveries: 5,
};

export interface BrokerOptions {
  store: Store;
  /** The concurrency limits stored, loaded before the broker starts. */
  concurrencyLimits?: ConcurrencyLimitRecord[];
  logger: Logger;
  limits?: Partial<BrokerLimits>;
  clock?: () => number;
  /** Told of each committed batch (the web UI's live views); must not throw. */
  onCommitted?: (batch: WriteBatch, result: CommitResult) => void;
}

export interface BrokerStats {
  workersConnected: number;
  runsLeased: number;
  commitsTotal: number;
  runsScheduledTotal: number;
  claimsTotal: number;
  /** Bytes queued on worker streams and not sent yet (a worker not reading keeps them). */
  unsentBytes: number;
}

export interface ConcurrencyLimitInfo {
  tag: string;
  limit: number;
  active: number;
}

interface Session extends WorkerSession {
  channel: WorkerChannel;
  /** Runs counted against the limit: the ones leased to it. */
  held: Set<string>;
  draining: boolean;
  connected: boolean;
  /**
   * Tokens of its leases taken back at a missed deadline (no Started within the ack window,
   * no heartbeat within the lease). While there are any it gets no new work: it may not be
   * reading its stream. A message naming one of them shows it read that assignment after
   * all; a heartbeat naming an older lease does not (it may come from another thread).
   */
  missedLeases: Set<string>;
}

interface Lease {
  run: RunRecord;
  token: string;
  session: Session;
  running: boolean;
  deadline: number;
  ackDeadline: number;
  timeoutAt?: number;
  cancelReason?: string;
}

export interface Broker {
  readonly limits: BrokerLimits;
  /** Stores new runs; resolves once they are committed. */
  schedule(runs: NewRun[]): Promise<{ id: string; existing: boolean }[]>;
  connectWorker(info: WorkerInfo, channel: WorkerChannel): WorkerSession;
  /** What was queued on the worker's stream has mostly gone out: it may get work again. */
  writable(session: WorkerSession): void;
  disconnectWorker(session: WorkerSession, reason: string): void;
  started(session: WorkerSession, refs: LeaseRef[]): void;
  heartbeat(session: WorkerSession, refs: LeaseRef[]): void;
  /**
   * A heartbeat sent outside the stream (WorkerService.Heartbeat) for the stream with this
   * session id. Returns the refused leases, or undefined when no such stream is open.
   */
  heartbeatSession(sessionId: string, refs: LeaseRef[]): LeaseAck[] | undefined;
  completed(session: WorkerSession, results: (LeaseRef & { result: StoredPayload })[]): void;
  failed(session: WorkerSession, failures: (LeaseRef & { error: StoredError })[]): void;
  released(session: WorkerSession, refs: LeaseRef[]): void;
  logs(session: WorkerSession, lines: (LeaseRef & { at: number; level: string; message: string })[]): void;
  drainWorker(session: WorkerSession): void;
  cancel(runId: string): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  watch(watcher: Watcher, runIds: string[]): Promise<string[]>;
  unwatch(watcher: Watcher, runIds?: string[]): void;
  /** Resolves with the run once final, or as it is when the timeout passes. */
  waitForFinal(runId: string, timeoutMs: number): Promise<RunRecord>;
  /** Counters and gauges for /metrics. */
  stats(): BrokerStats;
  setConcurrencyLimit(tag: string, limit: number): Promise<ConcurrencyLimitInfo>;
  deleteConcurrencyLimit(tag: string): Promise<void>;
  listConcurrencyLimits(): ConcurrencyLimitInfo[];
  /** Asks workers to drain, waits up to `graceMs` for their runs, hands the rest back. */
  close(graceMs: number): Promise<void>;
}

/** How long a RUNNING transition may wait for company before it is committed alone. */
const STARTED_WRITE_DELAY_MS = 50;

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

interface PendingWork {
  batch: WriteBatch;
  /** Told once the batch is committed; these writes are retried until it is. */
  after: ((result: CommitResult, batch: WriteBatch) => void)[];
  callers: CallerWrite[];
  /** Each changed run as it will be once committed, so watchers need no read back. */
  snapshots: Map<string, RunRecord>;
  /** RUNNING transitions not written yet: a result in the same batch absorbs them. */
  started: Map<string, Transition>;
}

function emptyWork(): PendingWork {
  return { batch: emptyBatch(), after: [], callers: [], snapshots: new Map(), started: new Map() };
}

/**
 * The broker: the one place that decides who runs what. Everything it changes goes through
 * a group commit: writes gathered during one turn of the event loop are committed together,
 * then every caller, worker and watcher involved hears of it. Leases live in memory; the
 * store holds runs, so a restart re-queues whatever was leased.
 */
export function createBroker(options: BrokerOptions): Broker {
  const { store, logger } = options;
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.clock ?? Date.now;
  const sessions = new Map<string, Session>();
  const leases = new Map<string, Lease>();
  const watches = createWatchRegistry();
  const concurrency = createConcurrencyLimits(options.concurrencyLimits ?? []);
  /** Task keys known to have no due run; claims skip them until something is scheduled. */
  const idleKeys = new Set<string>();
  let keysTouchedDuringCommit = new Set<string>();
  let pending: PendingWork = emptyWork();
  let dispatchWanted = true;
  let startedTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryAt = 0;
  let commitFailures = 0;
  let startedDue = false;
  let flushQueued = false;
  let committing = false;
  let closing = false;
  let rotation = 0;
  const counters = { commitsTotal: 0, runsScheduledTotal: 0, claimsTotal: 0 };
  let wakeTimer: NodeJS.Timeout | undefined;
  let wakeAt = Number.POSITIVE_INFINITY;
  /** Changed runs whose watchers were not told yet: reading them back failed. */
  const unpublished = new Set<string>();
  let republishTimer: NodeJS.Timeout | undefined;
  const sweepIntervalMs = Math.min(1000, limits.leaseDurationMs / 4);
  const stalls = createStallDetector({ intervalMs: sweepIntervalMs, clock: now });
  const sweepTimer = setInterval(sweepLeases, sweepIntervalMs);
  sweepTimer.unref();

  function hasPendingWrites(): boolean {
    return !isBatchEmpty(pending.batch) || pending.started.size > 0;
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
      dispatchWanted = true;
      retryAt = Math.max(retryAt, now() + 1_000);
      queueFlush();
    });
  }

  /** Queues a write; with `failed`, a caller's write that fails at once when its commit does. */
  function write(
    fill: (batch: WriteBatch) => void,
    after?: (result: CommitResult, batch: WriteBatch) => void,
    failed?: (error: ConnectError) => void,
  ): void {
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
  }

  function markKeyReady(taskKey: string): void {
    idleKeys.delete(taskKey);
    keysTouchedDuringCommit.add(taskKey);
    dispatchWanted = true;
  }

  async function flush(): Promise<void> {
    flushQueued = false;
    if (committing) return;
    // RUNNING alone is worth no fsync: it waits (up to STARTED_WRITE_DELAY_MS) for a result
    // or another write to travel with. Started and Completed of a short task then cost one
    // UPDATE in one commit, even when they arrive in separate messages.
    if (isBatchEmpty(pending.batch) && !dispatchWanted && !closing && !startedDue && pending.started.size > 0) {
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
    const plan = dispatchWanted && !closing ? planDispatch() : [];
    dispatchWanted = false;
    const budget = createDispatchBudget(DISPATCH_BYTES_PER_WORKER);
    // Concurrency slots are taken as the store claims; a failed commit gives them back.
    const admitted: RunRecord[] = [];
    let refused = false;
    const admit = (run: RunRecord) => {
      const ok = concurrency.admit(run);
      if (ok) admitted.push(run);
      else refused = true;
      return ok;
    };
    for (const claim of plan) {
      // The budget first: a run it turns away must not hold a concurrency slot.
      claim.request.admit = (run) => budget.admit(claim.owner, run) && admit(run);
      work.batch.claims.push(claim.request);
    }
    if (isBatchEmpty(work.batch)) return;
    committing = true;
    keysTouchedDuringCommit = new Set();
    let result: CommitResult;
    try {
      result = await store.commit(work.batch);
    } catch (error) {
      committing = false;
      for (const run of admitted) concurrency.release(run);
      retryFailedWork(work, error);
      return;
    }
    committing = false;
    commitFailures = 0;
    // Retries scheduled for later need the timer; onWake may have read the store before.
    const at = now();
    for (const t of work.batch.transitions) {
      if (t.patch.state === "SCHEDULED" && (t.patch.scheduledAt ?? 0) > at) wakeNoLaterThan(t.patch.scheduledAt ?? at);
    }
    counters.commitsTotal++;
    counters.runsScheduledTotal += result.inserted.filter((r) => !r.existing).length;
    for (const claimed of result.claimed) counters.claimsTotal += claimed.length;
    // Acks first: a worker sees its result acknowledged before the run that takes its slot.
    for (const after of work.after) after(result, work.batch);
    for (const caller of work.callers) caller.after(result, work.batch);
    // One Assignments message per worker per commit, however many claims filled it: the
    // worker then answers with one Started and one Completed message, not one per claim.
    const granted = new Map<Session, LeasedRun[]>();
    plan.forEach((claim, i) => {
      const limited = refused || budget.exhausted(claim.owner);
      const leased = grantLeases(claim.owner, claim.request.taskKeys, claim.request.max, result.claimed[i], limited);
      if (leased.length > 0) granted.set(claim.owner, [...(granted.get(claim.owner) ?? []), ...leased]);
    });
    for (const [session, runs] of granted) {
      session.channel.assign(runs);
      // Filled to the per-dispatch cap with slots to spare: the next commit gives more. (A
      // worker that used up its byte budget gets more once its stream is writable again.)
      const capped = runs.length >= MAX_RUNS_PER_DISPATCH && !budget.exhausted(session);
      if (capped && session.held.size < session.limit) dispatchWanted = true;
    }
    await publishChanges(work, result);
    if (dispatchWanted || hasPendingWrites()) queueFlush();
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
    pending.after.push(...next.after);
    pending.callers.push(...next.callers);
    for (const [id, run] of next.snapshots) pending.snapshots.set(id, run);
    // Started transitions already moved into the batch; later ones still merge from here.
    pending.started = next.started;
    dispatchWanted = true;
    retryAt = now() + delay;
    queueFlush();
  }

  function planDispatch() {
    // A worker with much unsent on its stream is not reading it: more would only pile up.
    const open = [...sessions.values()].filter(
      (s) => s.connected && !s.draining && s.missedLeases.size === 0 && s.held.size < s.limit && s.channel.unsentBytes <= MAX_UNSENT_BYTES_FOR_DISPATCH,
    );
    if (open.length === 0) return [];
    rotation = (rotation + 1) % open.length;
    const rotated = [...open.slice(rotation), ...open.slice(0, rotation)].map((session) => ({
      session,
      workerId: session.workerId,
      taskKeys: rotate(session.taskKeys, rotation),
      freeSlots: Math.min(session.limit - session.held.size, MAX_RUNS_PER_DISPATCH),
    }));
    const excludeTags = concurrency.saturated();
    return planClaims(rotated, (key) => !idleKeys.has(key), now()).map((claim) => ({
      owner: claim.owner.session,
      request: { ...claim.request, excludeTags },
    }));
  }

  function grantLeases(session: Session, taskKeys: string[], max: number, runs: RunRecord[], limited: boolean): LeasedRun[] {
    // Short means the keys ran dry, unless a concurrency limit turned runs away: then other
    // runs of the same keys may be waiting behind them.
    if (runs.length < max && !limited) {
      for (const key of taskKeys) if (!keysTouchedDuringCommit.has(key)) idleKeys.add(key);
    }
    if (runs.length === 0) return [];
    if (!session.connected) {
      // The worker left while its claim was being committed: put the runs back.
      for (const run of runs) {
        concurrency.release(run);
        requeue(run, "the worker disconnected before its assignment was sent", false);
      }
      return [];
    }
    const at = now();
    const granted: LeasedRun[] = runs.map((run) => {
      const lease: Lease = {
        run,
        token: randomBytesFromPool(12).toString("base64url"),
        session,
        running: false,
        deadline: at + limits.leaseDurationMs,
        ackDeadline: at + limits.ackTimeoutMs,
      };
      leases.set(run.id, lease);
      session.held.add(run.id);
      return { run, leaseToken: lease.token, leaseDeadline: lease.deadline };
    });
    return granted;
  }

  async function publishChanges(work: PendingWork, result: CommitResult): Promise<void> {
    options.onCommitted?.(work.batch, result);
    const changed = new Map<string, RunRecord | undefined>();
    work.batch.transitions.forEach((t, i) => {
      if (result.applied[i]) changed.set(t.runId, work.snapshots.get(t.runId));
    });
    for (const runs of result.claimed) for (const run of runs) changed.set(run.id, run);
    const ids = watches.watched(changed.keys());
    if (ids.length === 0) return;
    const known = ids.map((id) => changed.get(id)).filter((run): run is RunRecord => run !== undefined);
    const unknown = ids.filter((id) => !changed.get(id));
    let read: RunRecord[] = [];
    if (unknown.length > 0) {
      try {
        read = await store.getRuns(unknown);
      } catch (error) {
        republishLater(unknown, error);
      }
    }
    watches.publish([...known, ...read]);
  }

  /**
   * Reading changed runs for their watchers failed (SQLITE_BUSY outlasted the store's 5 s
   * busy timeout, say): the change is committed, so the watchers get it from a read 1 s
   * later, again until one succeeds; at most one log line a second while it lasts.
   */
  function republishLater(runIds: readonly string[], error: unknown): void {
    if (closing) return;
    for (const id of runIds) unpublished.add(id);
    logger.error({ err: error, runs: unpublished.size }, "could not read changed runs for their watchers; trying again in 1 s");
    republishTimer ??= setTimeout(republish, 1_000);
    republishTimer.unref();
  }

  function republish(): void {
    republishTimer = undefined;
    const ids = watches.watched(unpublished);
    unpublished.clear();
    if (ids.length === 0) return;
    store
      .getRuns(ids)
      .then((runs) => watches.publish(runs))
      .catch((error: unknown) => republishLater(ids, error));
  }

  /** Queues a transition of a run the broker holds, with the run as it will be after it. */
  function writeTransition(run: RunRecord, t: Transition, after?: (result: CommitResult) => void): void {
    write((batch) => batch.transitions.push(t), after);
    pending.snapshots.set(run.id, { ...run, ...t.patch });
  }

  /** Looks up the lease a worker message refers to; answers a refusal when it is stale. */
  function leaseFor(session: Session, ref: LeaseRef, kind: AckKind): Lease | undefined {
    const lease = leases.get(ref.runId);
    if (lease && lease.token === ref.leaseToken && lease.session === session) return lease;
    const reason = lease
      ? `stale lease token for run ${ref.runId}: the run is held under another lease now`
      : `run ${ref.runId} is not leased to this worker (it finished, was redelivered, or does not exist)`;
    session.channel.ack([{ runId: ref.runId, leaseToken: ref.leaseToken, kind, accepted: false, reason }]);
    return undefined;
  }

  /**
   * Ends a lease. The slot frees at once: a claim for it lands in the same commit as this
   * write, and its assignment is sent after this write's ack, so the worker never holds more
   * than its limit, and one commit (one fsync) serves both.
   */
  function finishLease(lease: Lease, transition: Transition, kind: AckKind): void {
    endLease(lease);
    const { session } = lease;
    const start = pending.started.get(lease.run.id);
    if (start) {
      // Started and finished within one batch: one UPDATE instead of two.
      pending.started.delete(lease.run.id);
      transition.patch = { ...start.patch, ...transition.patch };
      transition.events = [...start.events, ...transition.events];
    }
    writeTransition(
      lease.run,
      transition,
      () => {
        if (session.connected) {
          session.channel.ack([{ runId: lease.run.id, leaseToken: lease.token, kind, accepted: true, reason: "" }]);
        }
      },
    );
  }

  function transition(run: RunRecord, state: RunState, patch: Omit<Transition["patch"], "state">, message = ""): Transition {
    return leasedRunTransition(run, state, patch, now(), message);
  }

  function cancelledTransition(lease: Lease, error?: StoredError): Transition {
    return cancelled(lease.run, lease.cancelReason ?? "cancelled", now(), error);
  }

  function lostTransition(run: RunRecord, reason: string, countsAsRedelivery: boolean): Transition {
    return lost(run, reason, countsAsRedelivery, now(), limits.defaultMaxRedeliveries);
  }

  function requeue(run: RunRecord, reason: string, countsAsRedelivery: boolean): void {
    writeTransition(run, lostTransition(run, reason, countsAsRedelivery));
    markKeyReady(run.taskKey);
  }

  /**
   * A heartbeat naming a lease extends it; it also shows the worker has the assignment, so
   * the ack window stops applying (its Started may be stuck behind a task that blocks the
   * worker's event loop, while the heartbeat comes from another thread).
   */
  function extendLease(lease: Lease, deadline: number): void {
    lease.deadline = deadline;
    lease.ackDeadline = Math.max(lease.ackDeadline, deadline);
  }

  /** Frees what a lease held: the worker's slot and its runs' concurrency slots. */
  function endLease(lease: Lease): void {
    leases.delete(lease.run.id);
    lease.session.held.delete(lease.run.id);
    dispatchWanted = true;
    // A limit that was full has room: its queued runs may have been skipped as idle.
    if (concurrency.release(lease.run)) idleKeys.clear();
  }

  function loseLease(lease: Lease, reason: string): void {
    endLease(lease);
    const { session } = lease;
    const t = lease.cancelReason ? cancelledTransition(lease) : lostTransition(lease.run, reason, true);
    pending.started.delete(lease.run.id);
    writeTransition(lease.run, t);
    markKeyReady(lease.run.taskKey);
    if (session.connected) session.channel.cancel([lease.run.id], reason);
  }

  function failAttempt(lease: Lease, error: StoredError): void {
    const { run } = lease;
    if (lease.cancelReason) return finishLease(lease, cancelledTransition(lease, error), "FAILED");
    if (shouldRetry(run.options, run.retriesUsed, error.retryable)) {
      const delay = retryDelayMs(run.options, run.retriesUsed);
      // The wake-up timer is set once the retry is committed (see flush).
      finishLease(lease, retryTransition(run, error, now(), delay), "FAILED");
      if (delay === 0) markKeyReady(run.taskKey);
      return;
    }
    finishLease(lease, transition(run, "FAILED", { endedAt: now(), error }, `${error.type}: ${error.message}`), "FAILED");
  }

  /**
   * Runs from a timer, and timers run before socket reads in Node's loop: after a stall
   * (the server stopped or its loop blocked), the heartbeats, Started and results that came
   * in meanwhile are still unread. So every deadline moves by the stall, and expiry waits
   * for the next check phase, after the poll phase has read what the sockets hold.
   */
  function sweepLeases(): void {
    const stalledMs = stalls.check();
    if (stalledMs > 0) {
      for (const lease of leases.values()) {
        lease.deadline += stalledMs;
        lease.ackDeadline += stalledMs;
        if (lease.timeoutAt !== undefined) lease.timeoutAt += stalledMs;
      }
      logger.warn({ stalledMs, leases: leases.size }, "the server did not run for a while; lease deadlines moved by as much");
    }
    setImmediate(expireLeases);
  }

  function expireLeases(): void {
    if (closing) return;
    const at = now();
    for (const lease of [...leases.values()]) {
      // An attempt past its timeout fails as timed out (and may retry), even if its lease
      // ran out in the same sweep: the timeout is what the user asked for.
      if (lease.timeoutAt !== undefined && at > lease.timeoutAt) {
        // The worker should have aborted the attempt itself; fence it off and fail the attempt.
        const seconds = lease.run.options.timeoutSeconds;
        lease.session.channel.cancel([lease.run.id], `timed out after ${seconds}s`);
        failAttempt(lease, {
          type: "TimeoutError",
          message: `the attempt exceeded its timeout of ${seconds}s`,
          stack: "",
          retryable: true,
        });
      } else if (!lease.running && at > lease.ackDeadline) {
        // A worker that does not acknowledge may not be reading its stream: more work would
        // pile up unread and come back at the next ack deadline, until the runs fail.
        lease.session.missedLeases.add(lease.token);
        loseLease(lease, `not acknowledged within ${limits.ackTimeoutMs} ms`);
      } else if (at > lease.deadline) {
        // A worker that stopped heartbeating is likely stuck: it gets no more work until it
        // names this lease again, or the run would go straight back to it.
        lease.session.missedLeases.add(lease.token);
        loseLease(lease, `lease expired: no heartbeat for ${limits.leaseDurationMs} ms`);
      }
    }
  }

  /** A worker naming a lease it missed the deadline of reads its stream again: it gets work again. */
  function namedLeases(session: Session, refs: readonly LeaseRef[]): void {
    if (session.missedLeases.size === 0 || !refs.some((ref) => session.missedLeases.has(ref.leaseToken))) return;
    session.missedLeases.clear();
    dispatchWanted = true;
    queueFlush();
  }

  function wakeNoLaterThan(at: number): void {
    if (at >= wakeAt) return;
    wakeAt = at;
    clearTimeout(wakeTimer);
    // setTimeout fires at once past 2^31-1 ms (24.8 days); a far timer re-arms when it fires.
    wakeTimer = setTimeout(onWake, Math.min(Math.max(0, at - now()), 2_147_483_647));
    wakeTimer.unref();
  }

  function onWake(): void {
    if (wakeAt > now() + 1_000) {
      const at = wakeAt;
      wakeAt = Number.POSITIVE_INFINITY;
      return wakeNoLaterThan(at);
    }
    wakeAt = Number.POSITIVE_INFINITY;
    idleKeys.clear();
    dispatchWanted = true;
    queueFlush();
    wakeForNextScheduled();
  }

  /**
   * Sets the timer for the next run scheduled for later. A failed read (SQLITE_BUSY) must
   * not leave the timer unset, or those runs would wait for an unrelated write: it is
   * read again in 1 s.
   */
  function wakeForNextScheduled(): void {
    store.nextScheduledAt(now()).then(
      (next) => {
        if (next !== undefined) wakeNoLaterThan(next);
      },
      (error: unknown) => {
        if (closing) return;
        logger.error({ err: error }, "could not read when the next scheduled run is due; trying again in 1 s");
        wakeNoLaterThan(now() + 1_000);
      },
    );
  }

  async function cancelRun(runId: string, attempt: number): Promise<RunRecord> {
    const lease = leases.get(runId);
    if (lease) {
      lease.cancelReason ??= "cancelled on request";
      if (lease.session.connected) lease.session.channel.cancel([runId], lease.cancelReason);
      return lease.run;
    }
    const run = await getRun(runId);
    if (FINAL_STATES.has(run.state)) {
      throw new ConnectError(`task run ${runId} is already ${run.state}; only unfinished runs can be cancelled`, Code.FailedPrecondition);
    }
    const t: Transition = {
      runId,
      from: ["SCHEDULED"],
      patch: { state: "CANCELLED", endedAt: now() },
      events: [{ state: "CANCELLED", at: now(), attempt: run.attempts, message: "cancelled on request" }],
    };
    const applied = await new Promise<boolean>((resolve, reject) => {
      write(
        (batch) => batch.transitions.push(t),
        (result, batch) => resolve(result.applied[batch.transitions.indexOf(t)]),
        reject,
      );
    });
    if (applied) return getRun(runId);
    // Not applied: a worker claimed it meanwhile (the lease path handles it now), or its
    // lease had just ended and the result was committed with this write (now final).
    if (attempt < 3) return cancelRun(runId, attempt + 1);
    throw new ConnectError(`task run ${runId} changed state while being cancelled; try again`, Code.Aborted);
  }

  async function getRun(runId: string): Promise<RunRecord> {
    const [run] = await store.getRuns([runId]);
    if (!run) throw new ConnectError(`task run ${JSON.stringify(runId)} not found`, Code.NotFound);
    return run;
  }

  // Runs scheduled for later, from before a restart, need the timer too.
  wakeForNextScheduled();

  return {
    limits,
    schedule(runs) {
      if (runs.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        write(
          (batch) => batch.inserts.push(...runs),
          (result, batch) => {
            // Found by identity: a batch retried after a failed commit may hold more before it.
            const offset = batch.inserts.indexOf(runs[0]);
            resolve(result.inserted.slice(offset, offset + runs.length));
          },
          reject,
        );
        const at = now();
        for (const { record } of runs) {
          if (record.state !== "SCHEDULED") continue;
          if (record.scheduledAt <= at) markKeyReady(record.taskKey);
          else wakeNoLaterThan(record.scheduledAt);
        }
      });
    },
    connectWorker(info, channel) {
      const session: Session = {
        ...info,
        sessionId: randomBytes(8).toString("hex"),
        channel,
        held: new Set(),
        draining: closing,
        connected: true,
        missedLeases: new Set(),
      };
      sessions.set(session.sessionId, session);
      logger.info({ workerId: info.workerId, taskKeys: info.taskKeys, limit: info.limit }, "worker connected");
      dispatchWanted = true;
      queueFlush();
      return session;
    },
    writable(handle) {
      const session = handle as Session;
      if (!session.connected) return;
      dispatchWanted = true;
      queueFlush();
    },
    disconnectWorker(handle, reason) {
      const session = handle as Session;
      if (!session.connected) return;
      session.connected = false;
      sessions.delete(session.sessionId);
      let lost = 0;
      for (const lease of leases.values()) {
        if (lease.session === session) {
          loseLease(lease, `worker ${session.workerId} disconnected (${reason})`);
          lost++;
        }
      }
      logger.info({ workerId: session.workerId, requeued: lost, reason }, "worker disconnected");
    },
    started(handle, refs) {
      const session = handle as Session;
      namedLeases(session, refs);
      for (const ref of refs) {
        const lease = leaseFor(session, ref, "STARTED");
        if (!lease || lease.running) continue;
        lease.running = true;
        const at = now();
        if (lease.run.options.timeoutSeconds > 0) {
          // A second of grace for the worker to abort on its own and report the timeout.
          lease.timeoutAt = at + lease.run.options.timeoutSeconds * 1000 + 1000;
        }
        // On the held run itself, not only on this snapshot: the run's later snapshots (its
        // result, published to watchers) are built from it once the RUNNING write is out.
        lease.run.state = "RUNNING";
        lease.run.startedAt = at;
        const t = transition(lease.run, "RUNNING", { startedAt: at });
        t.from = ["PENDING"];
        pending.started.set(lease.run.id, t);
        pending.snapshots.set(lease.run.id, { ...lease.run });
        queueFlush();
      }
    },
    heartbeat(handle, refs) {
      const session = handle as Session;
      namedLeases(session, refs);
      const deadline = now() + limits.leaseDurationMs;
      for (const ref of refs) {
        const lease = leaseFor(session, ref, "HEARTBEAT");
        if (lease) extendLease(lease, deadline);
      }
    },
    heartbeatSession(sessionId, refs) {
      const session = sessions.get(sessionId);
      if (!session?.connected) return undefined;
      namedLeases(session, refs);
      const deadline = now() + limits.leaseDurationMs;
      const refused: LeaseAck[] = [];
      for (const ref of refs) {
        const lease = leases.get(ref.runId);
        if (lease && lease.token === ref.leaseToken && lease.session === session) {
          extendLease(lease, deadline);
        } else {
          const reason = `run ${ref.runId} is not leased under this token to this worker`;
          refused.push({ ...ref, kind: "HEARTBEAT", accepted: false, reason });
        }
      }
      return refused;
    },
    completed(handle, results) {
      const session = handle as Session;
      namedLeases(session, results);
      for (const item of results) {
        const lease = leaseFor(session, item, "COMPLETED");
        if (!lease) continue;
        if (item.result.data.byteLength > limits.maxPayloadBytes) {
          failAttempt(lease, {
            type: "PayloadTooLarge",
            message: `the result is ${item.result.data.byteLength} bytes, over the limit of ${limits.maxPayloadBytes}`,
            stack: "",
            retryable: false,
          });
          continue;
        }
        const t = lease.cancelReason
          ? cancelledTransition(lease)
          : transition(lease.run, "COMPLETED", { endedAt: now(), result: item.result });
        finishLease(lease, t, "COMPLETED");
      }
    },
    failed(handle, failures) {
      const session = handle as Session;
      namedLeases(session, failures);
      for (const item of failures) {
        const lease = leaseFor(session, item, "FAILED");
        if (lease) failAttempt(lease, item.error);
      }
    },
    released(handle, refs) {
      const session = handle as Session;
      namedLeases(session, refs);
      for (const ref of refs) {
        const lease = leaseFor(session, ref, "RELEASED");
        if (!lease) continue;
        const t = lease.cancelReason
          ? cancelledTransition(lease)
          : lostTransition(lease.run, `released by worker ${session.workerId}`, false);
        finishLease(lease, t, "RELEASED");
        markKeyReady(lease.run.taskKey);
      }
    },
    logs(handle, lines) {
      const session = handle as Session;
      const records: LogRecord[] = [];
      for (const line of lines) {
        const lease = leaseFor(session, line, "LOG");
        if (lease) {
          records.push({ runId: line.runId, at: line.at, level: line.level, message: line.message, attempt: lease.run.attempts });
        }
      }
      if (records.length > 0) write((batch) => batch.logs.push(...records));
    },
    drainWorker(handle) {
      (handle as Session).draining = true;
    },
    cancel: (runId) => cancelRun(runId, 1),
    getRun,
    async watch(watcher, runIds) {
      watches.add(watcher, runIds);
      // A run may have finished before the watch began: send it now.
      const runs = await store.getRuns(runIds);
      const found = new Set(runs.map((run) => run.id));
      const current = runs.filter((run) => !watcher.finalOnly || FINAL_STATES.has(run.state));
      if (current.length > 0) watches.publish(current.filter((run) => FINAL_STATES.has(run.state)));
      const notFinal = current.filter((run) => !FINAL_STATES.has(run.state));
      if (notFinal.length > 0) watcher.deliver(notFinal);
      const unknown = runIds.filter((id) => !found.has(id));
      if (unknown.length > 0) watches.remove(watcher, unknown);
      return unknown;
    },
    unwatch(watcher, runIds) {
      watches.remove(watcher, runIds);
    },
    async waitForFinal(runId, timeoutMs) {
      await getRun(runId);
      return new Promise<RunRecord>((resolve, reject) => {
        const watcher: Watcher = {
          finalOnly: true,
          deliver(runs) {
            clearTimeout(timer);
            watches.remove(watcher);
            resolve(runs[0]);
          },
        };
        const timer = setTimeout(() => {
          watches.remove(watcher);
          getRun(runId).then(resolve, reject);
        }, timeoutMs);
        this.watch(watcher, [runId]).catch(reject);
      });
    },
    stats() {
      let unsentBytes = 0;
      for (const session of sessions.values()) unsentBytes += session.channel.unsentBytes;
      return { workersConnected: sessions.size, runsLeased: leases.size, unsentBytes, ...counters };
    },
    async setConcurrencyLimit(tag, limit) {
      await store.setConcurrencyLimit({ tag, limit }).catch((error: unknown) => {
        throw commitRefusal(error, store.location);
      });
      concurrency.set({ tag, limit }, [...leases.values()].map((lease) => lease.run));
      idleKeys.clear();
      dispatchWanted = true;
      queueFlush();
      return concurrency.list().find((l) => l.tag === tag) ?? { tag, limit, active: 0 };
    },
    async deleteConcurrencyLimit(tag) {
      const deleted = await store.deleteConcurrencyLimit(tag).catch((error: unknown) => {
        throw commitRefusal(error, store.location);
      });
      if (!deleted) {
        throw new ConnectError(`no concurrency limit for tag ${JSON.stringify(tag)}`, Code.NotFound);
      }
      concurrency.delete(tag);
      idleKeys.clear();
      dispatchWanted = true;
      queueFlush();
    },
    listConcurrencyLimits() {
      return concurrency.list();
    },
    async close(graceMs) {
      closing = true;
      clearInterval(sweepTimer);
      clearTimeout(wakeTimer);
      for (const session of sessions.values()) {
        session.draining = true;
        session.channel.drain(graceMs);
      }
      const deadline = now() + graceMs;
      while (leases.size > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const lease of [...leases.values()]) {
        endLease(lease);
        writeTransition(lease.run, lostTransition(lease.run, "the server shut down", false));
      }
      // Bounded: a store that keeps failing must not keep the process from exiting.
      const giveUpAt = now() + 10_000;
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
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length < 2) return [...items];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
