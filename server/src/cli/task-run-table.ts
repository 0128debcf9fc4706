import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type TaskRun, TaskRunState } from "@taskwire/proto";

/** The state of a run as users write it: "COMPLETED" for TASK_RUN_STATE_COMPLETED. */
export function taskRunStateName(state: TaskRunState): string {
  return (TaskRunState[state] ?? String(state)).replace(/^TASK_RUN_STATE_/, "");
}

/**
 * Task runs as a plain-text table (id, task key, state, attempts, created and end time),
 * columns padded to their widest value so it reads in a terminal and greps line by line.
 */
export function formatTaskRunTable(runs: readonly TaskRun[]): string {
  const rows = [
    ["ID", "TASK KEY", "STATE", "ATTEMPTS", "CREATED", "ENDED"],
    ...runs.map((run) => [
      run.id,
      run.taskKey,
      taskRunStateName(run.state),
      String(run.attempts),
      formatTime(run.createdTime),
      formatTime(run.endTime),
    ]),
  ];
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
function formatTime(time: Timestamp | undefined): string {
  return time === undefined ? "-" : `${timestampDate(time).toISOString().slice(0, 19)}Z`;
}
