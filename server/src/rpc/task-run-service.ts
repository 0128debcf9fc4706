import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { createAsyncQueue } from "taskwire/async-queue";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type TaskRun, TaskRunService, type WatchTaskRunsResponseSchema } from "taskwire/proto";
import type { Broker } from "../broker/broker.js";
import type { Watcher } from "../broker/watch-registry.js";
import { FINAL_STATES, type RunRecord, type Store } from "../store/store.js";
import type { LogFeed } from "../store/log-feed.js";
import { followTaskRunLogs } from "./follow-task-run-logs.js";
import { checkPayload } from "./payload-rules.js";
import { retryTaskRun } from "./retry-task-run.js";
import { timestampFieldMs } from "./timestamp-field.js";
import { logToProto, runFromSpec, runToProto, stateFromProto } from "./run-codec.js";

export interface TaskRunServiceOptions {
  broker: Broker;
  store: Store;
  /** The log lines of each commit, for FollowTaskRunLogs. */
  logFeed: LogFeed;
}

const MAX_WAIT_MS = 60_000;
const MAX_BATCH = 10_000;

/** `TaskRunService`: what callers use to schedule, read, wait for and cancel runs. */
export function createTaskRunService({ broker, store, logFeed }: TaskRunServiceOptions): ServiceImpl<typeof TaskRunService> {
  const limits = broker.limits;

  async function runWithHistory(id: string): Promise<TaskRun> {
    const run = await broker.getRun(requireId(id));
    return runToProto(run, await store.getHistory(run.id));
  }

  return {
    async scheduleTaskRun(request) {
      const [result] = await broker.schedule([runFromSpec(request.run, "run", limits, Date.now())]);
      return result;
    },
    async scheduleTaskRuns(request) {
      if (request.runs.length > MAX_BATCH) {
        throw new ConnectError(`runs: ${request.runs.length} runs in one request, over the maximum of ${MAX_BATCH}`, Code.InvalidArgument);
      }
      if (request.runs.length === 0) return { runs: [] };
      const now = Date.now();
      const runs = request.runs.map((spec, i) => runFromSpec(spec, `runs[${i}]`, limits, now));
      return { runs: await broker.schedule(runs) };
    },
    async recordTaskRun(request) {
      const now = Date.now();
      const { record } = runFromSpec(request, "run", limits, now);
      const state = stateFromProto(request.state, "state");
      if (!FINAL_STATES.has(state)) {
        throw new ConnectError("state: a recorded run must be COMPLETED, FAILED or CANCELLED", Code.InvalidArgument);
      }
      const startedAt = request.startTime ? timestampFieldMs("start_time", request.startTime) : now;
      const endedAt = request.endTime ? timestampFieldMs("end_time", request.endTime) : now;
      Object.assign(record, {
        state,
        foreground: true,
        attempts: 1,
        createdAt: startedAt,
        scheduledAt: startedAt,
        startedAt,
        endedAt,
        result: request.result ? checkPayload("result", request.result, limits.maxPayloadBytes, "result") : undefined,
        // Only the known fields: a newer client's unknown ones must not end up in storage.
        error: request.error && {
          type: request.error.type,
          message: request.error.message,
          stack: request.error.stack,
          retryable: request.error.retryable,
        },
      } satisfies Partial<RunRecord>);
      record.options.tags = request.tags;
      const [{ id }] = await broker.schedule([
        {
          record,
          history: [
            { state: "RUNNING", at: startedAt, attempt: 1, message: "ran in the caller's process" },
            { state, at: endedAt, attempt: 1, message: "" },
          ],
          logs: request.logs.map((line) => ({
            runId: record.id,
            at: line.time ? timestampFieldMs("logs.time", line.time) : endedAt,
            level: line.level || "info",
            message: line.message,
            attempt: 1,
          })),
        },
      ]);
      return { id };
    },
    async getTaskRun(request) {
      return { taskRun: await runWithHistory(request.id) };
    },
    async listTaskRuns(request) {
      const pageSize = request.pageSize === 0 ? 50 : Math.min(request.pageSize, 1000);
      if (request.pageToken && !/^\d+$/.test(request.pageToken)) {
        throw new ConnectError("page_token: not a token from a previous ListTaskRuns response", Code.InvalidArgument);
      }
      const { runs, next, total } = await store.listRuns({
        taskKeys: request.taskKeys,
        states: request.states.map((s, i) => stateFromProto(s, `states[${i}]`)),
        tag: request.tag,
        workerId: request.workerId,
        createdAfter: request.createdAfter ? timestampFieldMs("created_after", request.createdAfter) : undefined,
        limit: pageSize,
        before: request.pageToken || undefined,
        countTotal: request.includeTotalSize,
      });
      return { taskRuns: runs.map((run) => runToProto(run, [], false)), nextPageToken: next ?? "", totalSize: total ?? 0 };
    },
    async waitTaskRun(request) {
      const timeout = request.timeoutMs === 0 ? MAX_WAIT_MS : Math.min(request.timeoutMs, MAX_WAIT_MS);
      const run = await broker.waitForFinal(requireId(request.id), timeout);
      return { taskRun: runToProto(run), final: FINAL_STATES.has(run.state) };
    },
    async *watchTaskRuns(requests, context) {
      const out = createAsyncQueue<MessageInitShape<typeof WatchTaskRunsResponseSchema>>();
      let watcher: Watcher | undefined;
      let closed = false;
      const reading = (async () => {
        for await (const request of requests) {
          watcher ??= {
            finalOnly: request.finalOnly,
            deliver: (runs) => out.push({ taskRuns: runs.map((run) => runToProto(run)) }),
          };
          if (request.unwatchRunIds.length > 0) broker.unwatch(watcher, request.unwatchRunIds);
          if (request.runIds.length > 0) {
            const unknown = await broker.watch(watcher, request.runIds);
            // The caller went away while this watch was being set up: undo it.
            if (closed) broker.unwatch(watcher);
            if (unknown.length > 0) out.push({ unknownRunIds: unknown });
          }
        }
      })();
      reading.then(
        () => out.close(),
        (error) => out.fail(error),
      );
      context.signal.addEventListener("abort", () => out.close());
      try {
        yield* out;
      } finally {
        closed = true;
        if (watcher) broker.unwatch(watcher);
      }
    },
    async cancelTaskRun(request) {
      await broker.cancel(requireId(request.id));
      return { taskRun: await runWithHistory(request.id) };
    },
    async setConcurrencyLimit(request) {
      const tag = request.tag.trim();
      if (!tag) throw new ConnectError("tag: must not be empty", Code.InvalidArgument);
      return { concurrencyLimit: await broker.setConcurrencyLimit(tag, request.limit) };
    },
    async listConcurrencyLimits() {
      return { concurrencyLimits: broker.listConcurrencyLimits() };
    },
    async deleteConcurrencyLimit(request) {
      await broker.deleteConcurrencyLimit(request.tag.trim());
      return {};
    },
    async listTaskRunLogs(request) {
      await broker.getRun(requireId(request.runId));
      const after = request.after ? timestampFieldMs("after", request.after) : -1;
      const limit = request.limit === 0 ? 1000 : Math.min(request.limit, 10_000);
      const lines = await store.listLogs(request.runId, after, limit);
      return { lines: lines.map(logToProto) };
    },
    followTaskRunLogs(request, context) {
      return followTaskRunLogs(request, context.signal, { broker, store, logFeed });
    },
    async retryTaskRun(request) {
      const id = await retryTaskRun(broker, requireId(request.id));
      return { taskRun: await runWithHistory(id) };
    },
  };
}

function requireId(id: string): string {
  if (!id) throw new ConnectError("id: must not be empty", Code.InvalidArgument);
  return id;
}
