import type { RunRecord } from "../store/store.js";

/**
 * How much one dispatch (one commit) may hand one worker, so that a worker with a large
 * `limit` and large runs cannot make the server hold gigabytes for it at once (limit 1e9 and
 * 1 MiB runs grew the server by 200 MB per ack window). Runs past the budget stay queued;
 * the worker gets more once what it was sent has gone out on its stream.
 */
export interface DispatchBudget {
  /** Whether `worker` may be given `run` in this dispatch; counts it when so. */
  admit(worker: object, run: RunRecord): boolean;
  /** Whether a run of `worker` was turned away by the budget in this dispatch. */
  exhausted(worker: object): boolean;
}

/** Runs per worker per dispatch: a limit of 10,000 then fills in 157 commits of a few ms each. */
export const MAX_RUNS_PER_DISPATCH = 64;

/**
 * A worker with more unsent bytes on its stream than this is not given work: it is not
 * reading (or reading slowly). 64 KiB is HTTP/2's default flow-control window: a worker that
 * is more than a window behind gets nothing more until it catches up.
 */
export const MAX_UNSENT_BYTES_FOR_DISPATCH = 64 * 1024;

/**
 * Bytes of parameters per worker per dispatch: 8 MiB, two messages of the default size, keeps
 * a worker of 1 MiB runs busy while the next dispatch waits for them to go out.
 */
export const DISPATCH_BYTES_PER_WORKER = 8 * 1024 * 1024;

/** Starts the budget of one dispatch: `maxBytes` of parameters per worker (at least one run). */
export function createDispatchBudget(maxBytes: number): DispatchBudget {
  const spent = new Map<object, number>();
  const turnedAway = new Set<object>();
  return {
    admit(worker, run) {
      const used = spent.get(worker) ?? 0;
      if (used > 0 && used + run.parameters.data.byteLength > maxBytes) {
        turnedAway.add(worker);
        return false;
      }
      spent.set(worker, used + run.parameters.data.byteLength);
      return true;
    },
    exhausted(worker) {
      return turnedAway.has(worker);
    },
  };
}
