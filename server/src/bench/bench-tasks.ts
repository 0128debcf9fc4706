import { type Task, task } from "taskwire";

/** What every benchmark task does: as little as a task can, so the broker is measured. */
function noop(n: number, _padding?: string) {
  return n;
}

/**
 * The tasks of the benchmark: one task `noop`, or `keys` tasks `noop-0` … `noop-{keys-1}`
 * doing the same, for runs spread over many task keys.
 */
export function benchTasks(keys: number): Task<[number, string?], number>[] {
  if (keys === 1) return [task(noop)];
  return Array.from({ length: keys }, (_, i) => task(`noop-${i}`, noop));
}
