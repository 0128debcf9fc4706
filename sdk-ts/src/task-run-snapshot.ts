import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type TaskRun, TaskRunState } from "@taskwire/proto";

export type TaskRunStateName = "SCHEDULED" | "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

/** A task run as a caller sees it. */
export interface TaskRunSnapshot {
  id: string;
  taskKey: string;
  state: TaskRunStateName;
  /** Attempts started so far. */
  attempts: number;
  /** Set when the run failed or was cancelled. */
  error?: { type: string; message: string; stack: string };
  workerId: string;
  createdTime?: Date;
  startTime?: Date;
  endTime?: Date;
  /** Whether `state` is final (COMPLETED, FAILED or CANCELLED). */
  final: boolean;
}

export function snapshotFromProto(run: TaskRun): TaskRunSnapshot {
  const state = TaskRunState[run.state] as TaskRunStateName;
  return {
    id: run.id,
    taskKey: run.taskKey,
    state,
    attempts: run.attempts,
    error: run.error ? { type: run.error.type, message: run.error.message, stack: run.error.stack } : undefined,
    workerId: run.workerId,
    createdTime: run.createdTime && timestampDate(run.createdTime),
    startTime: run.startTime && timestampDate(run.startTime),
    endTime: run.endTime && timestampDate(run.endTime),
    final: state === "COMPLETED" || state === "FAILED" || state === "CANCELLED",
  };
}
