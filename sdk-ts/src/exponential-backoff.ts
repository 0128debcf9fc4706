/**
 * Retry delays that double each time, for `retryDelaySeconds`: `exponentialBackoff(10)`
 * gives 10, 20, 40, 80 … seconds, one per retry (the last repeats past `retries`).
 *
 * @example
 * task(fetchFeed, { retries: 5, retryDelaySeconds: exponentialBackoff(2), retryJitterFactor: 0.2 });
 */
export function exponentialBackoff(backoffFactor: number, retries = 10): number[] {
  if (!(backoffFactor > 0)) throw new RangeError(`backoffFactor must be > 0, got ${backoffFactor}`);
  return Array.from({ length: retries }, (_, i) => backoffFactor * 2 ** i);
}
