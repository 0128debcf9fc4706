import { task } from "taskwire";

/** The task every benchmark workload runs: as small as a task gets, so the broker is measured. */
export const noop = task(function noop(n: number) {
  return n;
});
