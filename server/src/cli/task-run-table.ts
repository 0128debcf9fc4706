import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type TaskRun, TaskRunState } from "@taskwire/proto";

/** The state of a run as users write it: "COMPLETED" for TASK_RUN_STATE_COMPLETED. */
export function taskRunStateName(state: TaskRunState): string {
  return (TaskRunState[state] ?? String(state)).replace(/^TASK_RUN_STATE_/, "");
}

/**
 * Task runs as a plain-text table (id, task key, state, scheduled time, worker, duration,
 * tags), columns padded to their widest value so it reads in a terminal and greps line by line.
 */
export function formatTaskRunTable(runs: readonly TaskRun[], now = Date.now()): string {
  return formatColumns([
    ["ID", "TASK KEY", "STATE", "SCHEDULED", "WORKER", "DURATION", "TAGS"],
    ...runs.map((run) => [
      run.id,
      run.taskKey,
      taskRunStateName(run.state),
      formatTime(run.options?.scheduledTime),
      run.workerId || "-",
      formatDuration(run, now),
      run.options?.tags.join(",") || "-",
    ]),
  ]);
}

/** Rows as columns two spaces apart, each as wide as its widest cell. */
export function formatColumns(rows: readonly string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** UTC, to the second: the same on every machine that reads the same server. */
export function formatTime(time: Timestamp | undefined): string {
  return time === undefined ? "-" : `${timestampDate(time).toISOString().slice(0, 19)}Z`;
}

/** From start to end ("1.25s"), or to now while it runs ("3m 2s…"); "-" before it started. */
export function formatDuration(run: TaskRun, now = Date.now()): string {
  if (run.startTime === undefined) return "-";
  const start = timestampDate(run.startTime).getTime();
  const end = run.endTime === undefined ? now : timestampDate(run.endTime).getTime();
  const text = formatMs(Math.max(0, end - start));
  return run.endTime === undefined ? `${text}…` : text;
}

function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(2).replace(/\.?0+$/, "")}s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3_600)}h ${Math.floor((seconds % 3_600) / 60)}m`;
}
