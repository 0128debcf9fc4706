import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskRunState } from "@taskwire/proto";
import { encodeJson, encodeParameters, JSON_CONTENT_TYPE } from "./json-payload.js";
import type { TaskwireClient } from "./taskwire-client.js";
import { describeError } from "./error-info.js";

export interface ForegroundRun {
  taskKey: string;
  args: unknown[];
  startedAt: number;
  endedAt: number;
  outcome: { value: unknown } | { error: unknown };
  logs: { at: number; level: string; message: string }[];
  tags: string[];
}

let warned = false;

/**
 * Records a call that ran in this process, so the server shows it like any other run. The
 * call never waits for this and never fails because of it: with no server reachable the
 * task still works, and a single warning says the run was not recorded.
 */
export function recordForegroundRun(client: TaskwireClient, run: ForegroundRun): void {
  const payload = (encode: () => Uint8Array) => {
    try {
      return { contentType: JSON_CONTENT_TYPE, data: encode() };
    } catch {
      return undefined;
    }
  };
  const completed = "value" in run.outcome;
  const request = {
    taskKey: run.taskKey,
    parameters: payload(() => encodeParameters(run.args)),
    state: completed ? TaskRunState.COMPLETED : TaskRunState.FAILED,
    result: "value" in run.outcome ? payload(() => encodeJson((run.outcome as { value: unknown }).value, "result")) : undefined,
    error: "error" in run.outcome ? describeError(run.outcome.error) : undefined,
    startTime: timestampFromMs(run.startedAt),
    endTime: timestampFromMs(run.endedAt),
    logs: run.logs.map((line) => ({ time: timestampFromMs(line.at), level: line.level, message: line.message })),
    tags: run.tags,
  };
  client.taskRuns.recordTaskRun(request, { timeoutMs: 5_000 }).catch((error: unknown) => {
    if (warned) return;
    warned = true;
    const reason =
      error instanceof ConnectError && error.code === Code.Unavailable
        ? `no taskwire server is reachable at ${client.apiUrl}`
        : `the server at ${client.apiUrl} refused it (${error instanceof Error ? error.message : String(error)})`;
    process.emitWarning(`the run of task ${run.taskKey} was not recorded: ${reason}. The task itself ran. (shown once)`, "TaskwireWarning");
  });
}
