import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type LogLine,
  LogLineSchema,
  type TaskRun,
  TaskRunSchema,
  type TaskRunSpec,
  TaskRunState,
} from "@taskwire/proto";
import type { BrokerLimits } from "../broker/broker.js";
import type { LogRecord, NewRun, RunRecord, RunState, TransitionRecord } from "../store/store.js";
import { newRunId } from "../store/run-id.js";
import { ASSIGNMENT_ENVELOPE_BYTES, assignmentBytes } from "./assignment-size.js";
import { checkPayload } from "./payload-rules.js";
import { timestampFieldMs } from "./timestamp-field.js";

const TO_PROTO: Record<RunState, TaskRunState> = {
  SCHEDULED: TaskRunState.SCHEDULED,
  PENDING: TaskRunState.PENDING,
  RUNNING: TaskRunState.RUNNING,
  COMPLETED: TaskRunState.COMPLETED,
  FAILED: TaskRunState.FAILED,
  CANCELLED: TaskRunState.CANCELLED,
};

export function stateToProto(state: RunState): TaskRunState {
  return TO_PROTO[state];
}

export function stateFromProto(state: TaskRunState, field: string): RunState {
  const name = TaskRunState[state] as RunState | "UNSPECIFIED" | undefined;
  if (!name || name === "UNSPECIFIED") {
    throw new ConnectError(`${field}: ${state} is not a task run state`, Code.InvalidArgument);
  }
  return name;
}

/** Turns a caller's spec into a run to store, refusing what a worker could not run. */
export function runFromSpec(
  spec: Pick<TaskRunSpec, "taskKey" | "parameters" | "options"> | undefined,
  field: string, limits: BrokerLimits, now: number): NewRun {
  if (!spec) throw new ConnectError(`${field}: missing`, Code.InvalidArgument);
  const taskKey = spec.taskKey.trim();
  if (!taskKey) throw new ConnectError(`${field}.task_key: must not be empty`, Code.InvalidArgument);
  if (taskKey.length > 256) throw new ConnectError(`${field}.task_key: longer than 256 characters`, Code.InvalidArgument);
  const parameters = checkPayload(`${field}.parameters`, spec.parameters, limits.maxPayloadBytes, "parameters");
  const o = spec.options;
  const numbers: [string, number][] = [
    ["retry_jitter_factor", o?.retryJitterFactor ?? 0],
    ["timeout_seconds", o?.timeoutSeconds ?? 0],
    ...(o?.retryDelaySeconds ?? []).map((d, i): [string, number] => [`retry_delay_seconds[${i}]`, d]),
  ];
  for (const [name, value] of numbers) {
    if (!Number.isFinite(value) || value < 0) {
      throw new ConnectError(`${field}.options.${name}: must be a finite number >= 0`, Code.InvalidArgument);
    }
  }
  const scheduledAt = o?.scheduledTime ? Math.max(timestampFieldMs(`${field}.options.scheduled_time`, o.scheduledTime), now) : now;
  const record: RunRecord = {
    id: newRunId(now),
    taskKey,
    state: "SCHEDULED",
    parameters,
    options: {
      retries: o?.retries ?? 0,
      retryDelaySeconds: o?.retryDelaySeconds ?? [],
      retryJitterFactor: Math.min(o?.retryJitterFactor ?? 0, 1),
      timeoutSeconds: o?.timeoutSeconds ?? 0,
      priority: o?.priority ?? 0,
      idempotencyKey: o?.idempotencyKey ?? "",
      tags: o?.tags ?? [],
      maxRedeliveries: o?.maxRedeliveries || limits.defaultMaxRedeliveries,
    },
    attempts: 0,
    retriesUsed: 0,
    redeliveries: 0,
    createdAt: now,
    scheduledAt,
    foreground: false,
  };
  checkAssignmentFits(field, record, limits);
  const message = scheduledAt > now ? `scheduled for ${new Date(scheduledAt).toISOString()}` : "";
  return { record, history: [{ state: "SCHEDULED", at: now, attempt: 0, message }], logs: [] };
}

/**
 * A run is sent to a worker in one message: beside parameters within the payload limit, its
 * task key, tags and content type must fit in the room left for them (64 KiB).
 */
function checkAssignmentFits(field: string, run: RunRecord, limits: BrokerLimits): void {
  const bytes = assignmentBytes({ run, leaseToken: "0123456789abcdef" });
  const allowed = limits.maxPayloadBytes + ASSIGNMENT_ENVELOPE_BYTES;
  if (bytes > allowed) {
    throw new ConnectError(
      `${field}: the run takes ${bytes} bytes in an assignment, over the ${allowed} a worker is sent; ` +
        `its tags and content type may take ${ASSIGNMENT_ENVELOPE_BYTES} bytes beside parameters up to the payload limit`,
      Code.ResourceExhausted,
    );
  }
}

export function runToProto(run: RunRecord, history: TransitionRecord[] = [], withPayloads = true): TaskRun {
  return create(TaskRunSchema, {
    id: run.id,
    taskKey: run.taskKey,
    state: TO_PROTO[run.state],
    parameters: withPayloads ? run.parameters : undefined,
    options: {
      ...run.options,
      scheduledTime: timestampFromMs(run.scheduledAt),
    },
    result: withPayloads ? run.result : undefined,
    error: run.error,
    attempts: run.attempts,
    retriesUsed: run.retriesUsed,
    redeliveries: run.redeliveries,
    createdTime: timestampFromMs(run.createdAt),
    startTime: run.startedAt ? timestampFromMs(run.startedAt) : undefined,
    endTime: run.endedAt ? timestampFromMs(run.endedAt) : undefined,
    workerId: run.workerId ?? "",
    history: history.map((h) => ({
      state: TO_PROTO[h.state],
      time: timestampFromMs(h.at),
      attempt: h.attempt,
      message: h.message,
    })),
    foreground: run.foreground,
  });
}

export function logToProto(line: LogRecord): LogLine {
  return create(LogLineSchema, {
    runId: line.runId,
    time: timestampFromMs(line.at),
    level: line.level,
    message: line.message,
    attempt: line.attempt,
  });
}
