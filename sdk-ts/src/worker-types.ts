import type { AnyTask } from "./task.js";
import type { TaskwireClient } from "./taskwire-client.js";

export interface WorkerOptions {
  tasks: AnyTask[];
  /** Runs in flight at most; default 10. */
  limit?: number;
  client?: TaskwireClient;
  /** On stop, how long runs in flight may take to finish before they are handed back; default 10 s. */
  graceMs?: number;
  /** Unique per process; default host-pid-random. */
  workerId?: string;
  /** Where the worker reports connects and disconnects; default stderr. */
  log?: (message: string) => void;
}

/** A task worker: receives runs over one stream and runs up to `limit` of them at once. */
export interface Worker {
  readonly workerId: string;
  /**
   * Connects (and reconnects) until stop(); resolves once stopped. Rejects, without
   * retrying, when the server refuses the worker for good: a missing or wrong API key
   * (UNAUTHENTICATED, PERMISSION_DENIED) or a Hello it rejects (INVALID_ARGUMENT,
   * FAILED_PRECONDITION for a protocol version it does not speak).
   */
  start(): Promise<void>;
  /** Stops taking work, lets runs in flight finish up to the grace period, hands back the rest. */
  stop(): Promise<void>;
  /** Runs executing now. */
  readonly running: number;
}
