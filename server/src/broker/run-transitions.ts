import type { RunRecord, RunState, StoredError, Transition } from "../store/store.js";

type Patch = Omit<Transition["patch"], "state">;

/**
 * The state changes of a leased run, as the store will apply them: each sets the run's
 * columns and adds one history row. Pure functions of the run and the time.
 */
export function leasedRunTransition(run: RunRecord, state: RunState, patch: Patch, at: number, message = ""): Transition {
  return {
    runId: run.id,
    from: ["PENDING", "RUNNING"],
    patch: { ...patch, state },
    events: [{ state, at, attempt: run.attempts, message }],
  };
}

export function cancelledTransition(run: RunRecord, reason: string, at: number, error?: StoredError): Transition {
  return leasedRunTransition(
    run,
    "CANCELLED",
    { endedAt: at, error: error ?? { type: "Cancelled", message: reason, stack: "", retryable: false } },
    at,
    reason,
  );
}

/** A lost attempt: back to the queue without using a retry, or FAILED past max redeliveries. */
export function lostTransition(run: RunRecord, reason: string, countsAsRedelivery: boolean, at: number, defaultMaxRedeliveries: number): Transition {
  const redeliveries = run.redeliveries + (countsAsRedelivery ? 1 : 0);
  const max = run.options.maxRedeliveries || defaultMaxRedeliveries;
  if (redeliveries > max) {
    const message = `the run was lost ${redeliveries} times (max_redeliveries ${max}); last: ${reason}`;
    const error = { type: "MaxRedeliveriesExceeded", message, stack: "", retryable: false };
    return leasedRunTransition(run, "FAILED", { redeliveries, endedAt: at, error }, at, message);
  }
  return leasedRunTransition(run, "SCHEDULED", { redeliveries, scheduledAt: at, workerId: undefined }, at, `requeued: ${reason}`);
}

/** A failed attempt with a retry left: SCHEDULED again, `delayMs` from now. */
export function retryTransition(run: RunRecord, error: StoredError, at: number, delayMs: number): Transition {
  const message = `retry ${run.retriesUsed + 1} of ${run.options.retries} in ${delayMs / 1000}s after ${error.type}: ${error.message}`;
  const patch = { retriesUsed: run.retriesUsed + 1, scheduledAt: at + delayMs, error, workerId: undefined };
  return leasedRunTransition(run, "SCHEDULED", patch, at, message);
}
