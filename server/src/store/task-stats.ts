import type { RunState, TaskStatsRecord } from "./store.js";

/** Runs of one task key in one state now. */
export interface DepthRow {
  taskKey: string;
  state: RunState;
  n: number;
}

/** Runs of one task key that ended COMPLETED or FAILED in minute `minute` of the window. */
export interface FinishedRow {
  taskKey: string;
  state: RunState;
  minute: number;
  n: number;
}

export interface DurationPercentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Nearest-rank percentiles of durations sorted ascending. */
export function percentilesOf(sorted: readonly number[]): DurationPercentiles {
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** The records of `Store.taskStats`, from the three queries each store runs its own way. */
export function assembleTaskStats(
  minutes: number,
  depth: readonly DepthRow[],
  finished: readonly FinishedRow[],
  durations: ReadonlyMap<string, DurationPercentiles>,
): TaskStatsRecord[] {
  const byKey = new Map<string, TaskStatsRecord>();
  const entry = (taskKey: string) => {
    let record = byKey.get(taskKey);
    if (!record) {
      record = {
        taskKey,
        scheduled: 0,
        pending: 0,
        running: 0,
        completedPerMinute: new Array<number>(minutes).fill(0),
        failedPerMinute: new Array<number>(minutes).fill(0),
        durationP50Ms: 0,
        durationP95Ms: 0,
        durationP99Ms: 0,
      };
      byKey.set(taskKey, record);
    }
    return record;
  };
  for (const row of depth) {
    const record = entry(row.taskKey);
    if (row.state === "SCHEDULED") record.scheduled = row.n;
    if (row.state === "PENDING") record.pending = row.n;
    if (row.state === "RUNNING") record.running = row.n;
  }
  for (const row of finished) {
    if (row.minute < 0 || row.minute >= minutes) continue;
    const record = entry(row.taskKey);
    (row.state === "COMPLETED" ? record.completedPerMinute : record.failedPerMinute)[row.minute] += row.n;
  }
  for (const [taskKey, p] of durations) {
    Object.assign(entry(taskKey), { durationP50Ms: p.p50, durationP95Ms: p.p95, durationP99Ms: p.p99 });
  }
  return [...byKey.values()].sort((a, b) => a.taskKey.localeCompare(b.taskKey));
}
