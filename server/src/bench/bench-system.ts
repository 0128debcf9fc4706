import type { ChildProcess } from "node:child_process";

/** What the workloads change between runs of one benchmark: the scaling figures of the speed issue. */
export interface BenchOptions {
  /** Worker processes draining W1 and consuming in W3 (W2 always has one). */
  workers: number;
  /** Bytes of padding in each run's parameters beside its number; 0: just the number. */
  payloadBytes: number;
  /** Distinct task keys the runs are spread over (round robin); every worker serves all. */
  keys: number;
}

/** A task system measured by the workloads: taskwire, or a contender in `npm run bench:compare`. */
export interface BenchSystem<Handle = unknown> {
  /** "taskwire (sqlite, 1 server)", "BullMQ 6.7.0 (Redis 7.0.15)". */
  readonly label: string;
  /** Starts the system afresh for one workload: its server(s), an empty database. */
  open(): Promise<BenchSession<Handle>>;
  /** Stops what outlives the workloads (a database cluster, a Redis); synchronous, for process exit. */
  close(): void;
}

/** The system as one workload sees it. The producer is the calling process. */
export interface BenchSession<Handle> {
  /** Schedules run number `n` with `parameters` (its number and padding); resolves once acknowledged. */
  delay(n: number, padding: string): Promise<Handle>;
  /** Resolves once that run is done: its result read where the system keeps results. */
  result(handle: Handle): Promise<void>;
  /** Resolves once all these runs are done. */
  allDone(handles: Handle[]): Promise<void>;
  /** Starts a worker process of limit 50 serving every key; resolves once it serves. */
  startWorker(): Promise<ChildProcess>;
  /** Runs completed between `start` and `end` (ms since the epoch), asked right at `end`. */
  completedBetween(start: number, end: number, produced: number): Promise<number>;
  /** The processes whose CPU counts as the server's: taskwire servers, Redis; none for a library on PostgreSQL. */
  readonly serverPids: number[];
  /** CPU seconds of the database cluster so far; undefined when there is none apart from the server. */
  databaseCpuSeconds(): number | undefined;
  /** Stops the server(s) and deletes what the workload left. */
  close(): Promise<void>;
}
