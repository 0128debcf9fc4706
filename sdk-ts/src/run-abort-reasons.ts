/** The reason a run's AbortSignal fires when the run is cancelled. */
export class RunCancelledError extends Error {
  override name = "Cancelled";
  readonly retryable = false;
}

/** The reason a run's AbortSignal fires when the attempt exceeds its timeout. */
export class RunTimeoutError extends Error {
  override name = "TimeoutError";
  constructor(timeoutMs: number) {
    super(`the attempt exceeded its timeout of ${timeoutMs / 1000}s`);
  }
}
