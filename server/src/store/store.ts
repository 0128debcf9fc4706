import type { ChangeFeed, Changes } from "./change-feed.js";

/**
 * The store contract: what the broker needs from durable storage.
 *
 * Words:
 * - task: a named function a worker can run; its task key is its stable name ("greet").
 * - task run: one requested execution of a task: parameters, options, state, result or error.
 * - attempt: one try of a run on one worker; retries and redeliveries make new attempts.
 * - lease: the server's grant of one attempt to one worker, with a deadline and a lease
 *   token that every later message about that attempt must carry (fencing).
 * - worker: a process serving one or more task keys, with a limit of runs in flight.
 *
 * Every write goes through `commit(batch)`: one transaction, one fsync, for everything the
 * broker gathered in one turn of the event loop (group commit). A caller is acknowledged
 * only after the commit holding its write returned.
 */

export type RunState = "SCHEDULED" | "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export const FINAL_STATES: ReadonlySet<RunState> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export interface RunOptions {
  retries: number;
  retryDelaySeconds: number[];
  retryJitterFactor: number;
  timeoutSeconds: number;
  priority: number;
  idempotencyKey: string;
  tags: string[];
  maxRedeliveries: number;
}

export interface StoredPayload {
  contentType: string;
  data: Uint8Array;
}

export interface StoredError {
  type: string;
  message: string;
  stack: string;
  retryable: boolean;
}

/** One task run as stored. Times are milliseconds since the epoch. */
export interface RunRecord {
  id: string;
  taskKey: string;
  state: RunState;
  parameters: StoredPayload;
  options: RunOptions;
  result?: StoredPayload;
  error?: StoredError;
  attempts: number;
  retriesUsed: number;
  redeliveries: number;
  createdAt: number;
  scheduledAt: number;
  startedAt?: number;
  endedAt?: number;
  workerId?: string;
  foreground: boolean;
  /** The current attempt's lease, while PENDING or RUNNING; cleared when it ends. */
  leaseToken?: string;
  /** The server whose worker stream holds the lease (it pushes Cancel to the worker). */
  leaseServerId?: string;
  /** The worker stream (session) holding the lease; heartbeats extend its leases together. */
  leaseSessionId?: string;
  /**
   * When the lease runs out: the ack window from the claim (no Started by then, the run is
   * taken back), then the lease proper from Started on, moved on by each heartbeat.
   */
  leaseDeadline?: number;
  /** When the running attempt times out (Started + its timeout + 1 s of grace). */
  timeoutAt?: number;
  /** Why the run is to be cancelled: asked for, through any server, while it was leased. */
  cancelReason?: string;
}

/** Whether a run in this state holds a lease. */
export function isLeasedState(state: RunState): boolean {
  return state === "PENDING" || state === "RUNNING";
}

export interface TransitionRecord {
  state: RunState;
  at: number;
  attempt: number;
  message: string;
}

export interface LogRecord {
  runId: string;
  at: number;
  level: string;
  message: string;
  attempt: number;
}

/** A stored log line with its place in the order lines were stored. */
export interface SequencedLogRecord extends LogRecord {
  seq: number;
}

/** A run to create; with an idempotency key that exists already, the existing run is returned. */
export interface NewRun {
  record: RunRecord;
  /** History rows to store with it (a foreground run arrives already final). */
  history: TransitionRecord[];
  logs: LogRecord[];
}

/** Columns a transition may set on a run. */
export type RunPatch = Partial<
  Pick<
    RunRecord,
    | "state"
    | "result"
    | "error"
    | "attempts"
    | "retriesUsed"
    | "redeliveries"
    | "scheduledAt"
    | "startedAt"
    | "endedAt"
    | "workerId"
    | "leaseDeadline"
    | "timeoutAt"
  >
>;

/**
 * A state change of an existing run, applied only while the run is in one of `from`. It
 * may record several history rows: a run that started and finished within one batch is
 * one UPDATE with both its RUNNING and its COMPLETED rows. A change to a new state that is
 * not PENDING or RUNNING clears the run's lease columns.
 */
export interface Transition {
  runId: string;
  from: readonly RunState[];
  patch: RunPatch & { state: RunState };
  events: TransitionRecord[];
  /**
   * The lease it is about: applied only while the run is still on this attempt under this
   * token (fencing), so a stale or foreign token changes nothing, whichever server sends it.
   */
  lease?: LeaseFence;
}

export interface LeaseFence {
  attempt: number;
  token: string;
}

/**
 * Heartbeats of one worker stream: the leases named (by token) that the stream still holds
 * move their deadline to at least `deadline`, in one statement however many they are.
 */
export interface LeaseExtension {
  sessionId: string;
  tokens: string[];
  deadline: number;
  /** When the heartbeat came: the stream's last heartbeat (see WorkerSessionRecord). */
  at?: number;
}

/** One open worker stream, as its Hello described it; in the store so that any server lists it. */
export interface WorkerSessionRecord {
  sessionId: string;
  /** The server whose stream it is. */
  serverId: string;
  workerId: string;
  taskKeys: string[];
  limit: number;
  language: string;
  sdkVersion: string;
  hostname: string;
  pid: number;
  connectedAt: number;
  lastHeartbeatAt?: number;
}

/** Take up to `max` due SCHEDULED runs of these task keys, fairly across the keys. */
export interface ClaimRequest {
  taskKeys: string[];
  max: number;
  workerId: string;
  now: number;
  /** The lease written with the claim: who holds it, and the end of its ack window. */
  serverId?: string;
  sessionId?: string;
  leaseDeadline?: number;
  /** Runs carrying one of these tags are at their concurrency limit: leave them queued. */
  excludeTags?: readonly string[];
  /** Asked for each run about to be claimed; false leaves it queued (a limit just filled). */
  admit?: (run: RunRecord) => boolean;
  /**
   * Told the keys the claim looked at and found with no due run at all (none under a
   * saturated tag either), so that later claims can leave them out until runs are due.
   */
  noneDue?: (taskKeys: string[]) => void;
}

/** One pass of lease expiry, by server `origin`. */
export interface LeaseExpiryRequest {
  now: number;
  limit: number;
  origin: string;
  /**
   * Lease tokens the expiring server holds alive in memory, left alone even if the store
   * says they ran out: a heartbeat or a Started not committed yet, a stall made good, or a
   * result of that attempt waiting for the next commit.
   */
  keep: readonly string[];
  /** The expiring server's windows, for the reason written in the history. */
  ackTimeoutMs: number;
  leaseDurationMs: number;
  /** For runs whose max_redeliveries is 0 (the server's default). */
  defaultMaxRedeliveries: number;
}

export interface ConcurrencyLimitRecord {
  tag: string;
  limit: number;
}

/** The limits a run falls under: its tags, and "task_key:<key>" for its task key. */
export function limitTags(run: Pick<RunRecord, "taskKey" | "options">): string[] {
  return [...run.options.tags, `task_key:${run.taskKey}`];
}

export interface WriteBatch {
  inserts: NewRun[];
  transitions: Transition[];
  logs: LogRecord[];
  claims: ClaimRequest[];
  extensions: LeaseExtension[];
  /** Told to the other servers once (and only if) this batch is committed. */
  changes?: { origin: string; changes: Changes };
}

export interface CommitResult {
  /** Per insert, in order: the id stored, and whether it was an existing run (idempotency). */
  inserted: { id: string; existing: boolean }[];
  /** Per transition, in order: whether it applied (false: the run was not in `from`). */
  applied: boolean[];
  /** Per claim request, in order: the runs now PENDING for that worker. */
  claimed: RunRecord[][];
  /** Per extension, in order: the tokens whose lease it moved (the others are not held). */
  extended: string[][];
  /**
   * Per claim request, in order: whether a concurrency limit left some of its runs queued.
   * Limits are counted from the leased runs in the store inside the claim's transaction, so
   * they hold across servers.
   */
  limited: boolean[];
}

/** The statement of one page of `listRuns`, and of its total, with their parameters. */
export interface RunPageQuery {
  sql: string;
  params: unknown[];
  countSql: string;
  countParams: unknown[];
}

export interface ListFilter {
  taskKeys: string[];
  states: RunState[];
  tag: string;
  limit: number;
  /** Only runs older than this cursor (from a previous page). */
  before?: string;
  /** Also count every run that matches (all pages): one more query. */
  countTotal?: boolean;
  /** Runs held now or last by this worker. */
  workerId?: string;
  /** Runs whose id starts with this. */
  idPrefix?: string;
  /** Runs created at or after this time (ms). */
  createdAfter?: number;
  /** Runs created before this time (ms). */
  createdBefore?: number;
}

/** Per task key: queue depth now, and what finished in a window of whole minutes. */
export interface TaskStatsRecord {
  taskKey: string;
  scheduled: number;
  pending: number;
  running: number;
  /** Entry i counts runs that ended in minute i of the window, oldest first. */
  completedPerMinute: number[];
  failedPerMinute: number[];
  /** Start-to-end durations of the runs completed in the window, in ms; 0 when none. */
  durationP50Ms: number;
  durationP95Ms: number;
  durationP99Ms: number;
}

export interface Store {
  /** Where the data lives, for logs ("sqlite:/home/me/.taskwire/taskwire.db"). */
  readonly location: string;
  /** How servers on this database hear of each other's changes. */
  readonly changeFeed: ChangeFeed;
  /**
   * Asks for a leased run to be cancelled: stores the reason (a first reason stays) and
   * returns the run, or undefined when the run is not leased (not PENDING or RUNNING).
   */
  requestCancel(runId: string, reason: string): Promise<RunRecord | undefined>;
  commit(batch: WriteBatch): Promise<CommitResult>;
  getRuns(ids: readonly string[]): Promise<RunRecord[]>;
  getHistory(id: string): Promise<TransitionRecord[]>;
  /** `total` is set when `filter.countTotal` is. */
  listRuns(filter: ListFilter): Promise<{ runs: RunRecord[]; next?: string; total?: number }>;
  listLogs(runId: string, after: number, limit: number): Promise<LogRecord[]>;
  /**
   * A run's lines stored after line `afterSeq` (0: from the first), in the order they were
   * stored, leaving out those at or before time `after`. A line's `seq` only grows with each
   * line stored, so a reader paging by it never skips a line stored later with the same
   * (or an earlier, worker-given) time, as paging by time would.
   */
  followLogs(runId: string, after: number, afterSeq: number, limit: number): Promise<SequencedLogRecord[]>;
  /** Earliest scheduled time of a SCHEDULED run later than `now`, to set the wake-up timer. */
  nextScheduledAt(now: number): Promise<number | undefined>;
  /**
   * At start-up: leased runs go back to SCHEDULED when their lease ran out by `now`, or was
   * granted by one of `deadServers` (their workers' streams died with it), or by any
   * server at all with "all" (SQLite: the file lock proves every other server dead).
   * Never a live server's unexpired lease. Returns how many.
   */
  requeueAbandoned(now: number, deadServers: "all" | readonly string[]): Promise<number>;
  /**
   * Re-queues leases that ran out by `request.now` (deadline or attempt timeout), oldest
   * deadline first, at most `request.limit`, in one UPDATE (see lease-expiry-sql.ts): each
   * goes back to SCHEDULED as a redelivery, FAILED past its max_redeliveries, SCHEDULED as a
   * retry or FAILED when its attempt timed out, CANCELLED when cancel was asked for, with
   * its history row in the same transaction; the other servers hear of it from the change
   * feed once committed. Returns the runs as it left them (their `attempts` names the
   * attempt whose lease ended).
   */
  requeueExpiredLeases(request: LeaseExpiryRequest): Promise<RunRecord[]>;
  /** Records a worker stream that opened on a server. */
  openWorkerSession(session: WorkerSessionRecord): Promise<void>;
  closeWorkerSession(sessionId: string): Promise<void>;
  /** Forgets the streams of dead servers: these, or with "all" every server but `except`. */
  forgetWorkerSessions(servers: "all" | readonly string[], except: string): Promise<void>;
  /** The worker streams recorded, oldest first, each with the runs leased to it now. */
  listWorkerSessions(): Promise<(WorkerSessionRecord & { runsInFlight: number })[]>;
  /** The servers that hold leases now (to ask which of them are dead, at start-up). */
  leaseServerIds(): Promise<string[]>;
  /** The earliest lease deadline or timeout of leases not granted by `exceptServerId`. */
  nextLeaseDeadline(exceptServerId: string): Promise<number | undefined>;
  /** Task stats over the `minutes` whole minutes starting at `since` (ms). */
  taskStats(since: number, minutes: number): Promise<TaskStatsRecord[]>;
  /** How many runs are in each state now. */
  countByState(): Promise<Partial<Record<RunState, number>>>;
  setConcurrencyLimit(limit: ConcurrencyLimitRecord): Promise<void>;
  /** False when the tag had no limit. */
  deleteConcurrencyLimit(tag: string): Promise<boolean>;
  listConcurrencyLimits(): Promise<ConcurrencyLimitRecord[]>;
  /** Each limit with how many leased runs count against it now. */
  countConcurrency(): Promise<(ConcurrencyLimitRecord & { active: number })[]>;
  /** Deletes up to `limit` runs that ended before `cutoff`, with their history and logs. */
  deleteFinished(cutoff: number, limit: number): Promise<number>;
  /**
   * Why the store refuses every write for good, else undefined: its file was deleted or
   * replaced while open, so what it writes would be lost at the next start.
   */
  fatalError(): string | undefined;
  close(): Promise<void>;
}

export function emptyBatch(): WriteBatch {
  return { inserts: [], transitions: [], logs: [], claims: [], extensions: [] };
}

export function isBatchEmpty(batch: WriteBatch): boolean {
  return (
    batch.inserts.length === 0 &&
    batch.transitions.length === 0 &&
    batch.logs.length === 0 &&
    batch.claims.length === 0 &&
    batch.extensions.length === 0
  );
}
