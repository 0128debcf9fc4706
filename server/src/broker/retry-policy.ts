import type { RunOptions } from "../store/store.js";

/**
 * Seconds to wait before retry number `retriesUsed + 1`: the configured delays in turn, the
 * last one repeating, spread by the jitter factor so that runs failing together (a database
 * down for everyone) do not all come back in the same millisecond.
 */
export function retryDelayMs(options: RunOptions, retriesUsed: number, random: () => number = Math.random): number {
  const delays = options.retryDelaySeconds;
  if (delays.length === 0) return 0;
  const base = delays[Math.min(retriesUsed, delays.length - 1)] * 1000;
  const jitter = Math.min(Math.max(options.retryJitterFactor, 0), 1);
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** Whether a failed attempt with this error gets another try. */
export function shouldRetry(options: RunOptions, retriesUsed: number, retryable: boolean): boolean {
  return retryable && retriesUsed < options.retries;
}
