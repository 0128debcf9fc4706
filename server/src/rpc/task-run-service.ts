import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { createAsyncQueue } from "taskwire/async-queue";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type TaskRun, TaskRunService, type TaskRunSpec, type WatchTaskRunsResponseSchema } from "@taskwire/proto";
import type { Broker } from "../broker/broker.js";
import type { Watcher } from "../broker/watch-registry.js";
import { FINAL_STATES, type RunRecord, type Store } from "../store/store.js";
import { createCallsPerConnection } from "./calls-per-connection.js";
import { checkPayload } from "./payload-rules.js";
import { scheduleStream } from "./schedule-stream.js";
import type { RunChangeFeed } from "./run-change-feed.js";
import { retryTaskRun } from "./retry-task-run.js";
import { runFilterFromRequest } from "./run-filter.js";
import { createTaskRunLive } from "./task-run-live.js";
import { timestampFieldMs } from "./timestamp-field.js";
import { logToProto, runFromSpec, runToProto, stateFromProto } from "./run-codec.js";

export interface TaskRunServiceOptions {
  broker: Broker;
  store: Store;
  /** Feeds the live list and live logs (WatchTaskRunList, WatchTaskRunLogs). */
  feed: RunChangeFeed;
}

const MAX_WAIT_MS = 60_000;
const MAX_BATCH = 10_000;
/**
 * Runs one WatchTaskRuns stream watches at once. The TS SDK waits for all of a client's
 * futures on one stream (its run watcher is written for 20,000 in one message), so the
 * cap must sit well above that; each watched run costs about 200 bytes here, so 100,000
 * is 20 MB per stream at most.
 */
export const MAX_WATCHED_RUNS = 100_000;
/**
 * Ids read from the store per step of setting up a watch: the store reads whole runs,
 * parameters and all, and 64 runs of 4 MiB are 256 MiB at most.
 */
const WATCH_STEP = 64;
/** Below HTTP/2's 1,000 streams per connection, so that a client hears which limit it hit. */
export const MAX_WAITS_PER_CONNECTION = 500;
export const MAX_CONCURRENCY_LIMITS = 10_000;
export const MAX_TAG_LENGTH = 256;

/** `TaskRunService`: what callers use to schedule, read, wait for and cancel runs. */
export function createTaskRunService({ broker, store, feed }: TaskRunServiceOptions): ServiceImpl<typeof TaskRunService> {
  const limits = broker.limits;
  const waits = createCallsPerConnection(MAX_WAITS_PER_CONNECTION, "WaitTaskRun and WatchTaskRuns");

  async function runWithHistory(id: string): Promise<TaskRun> {
    const run = await broker.getRun(requireId(id));
    return runToProto(run, await store.getHistory(run.id));
  }

  async function scheduleSpecs(specs: TaskRunSpec[]) {
    if (specs.length > MAX_BATCH) {
      throw new ConnectError(`runs: ${specs.length} runs in one request, over the maximum of ${MAX_BATCH}`, Code.InvalidArgument);
    }
    if (specs.length === 0) return [];
    const now = Date.now();
    const runs = specs.map((spec, i) => runFromSpec(spec, `runs[${i}]`, limits, now));
    return broker.schedule(runs);
  }

  return {
    ...createTaskRunLive({ broker, store, feed }),
    async scheduleTaskRun(request) {
      const [result] = await broker.schedule([runFromSpec(request.run, "run", limits, Date.now())]);
      return result;
    },
    async scheduleTaskRuns(request) {
      return { runs: await scheduleSpecs(request.runs) };
    },
    scheduleTaskRunStream: scheduleStream(scheduleSpecs),
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
        ...runFilterFromRequest(request),
        limit: pageSize,
        before: request.pageToken || undefined,
        countTotal: request.includeTotalSize,
      });
      return { taskRuns: runs.map((run) => runToProto(run, [], false)), nextPageToken: next ?? "", totalSize: total ?? 0 };
    },
    async waitTaskRun(request, context) {
      const leave = waits.enter(context);
      try {
        const timeout = request.timeoutMs === 0 ? MAX_WAIT_MS : Math.min(request.timeoutMs, MAX_WAIT_MS);
        const run = await broker.waitForFinal(requireId(request.id), timeout);
        return { taskRun: runToProto(run), final: FINAL_STATES.has(run.state) };
      } finally {
        leave();
      }
    },
    async *watchTaskRuns(requests, context) {
      const leave = waits.enter(context);
      const out = createAsyncQueue<MessageInitShape<typeof WatchTaskRunsResponseSchema>>();
      let watcher: Watcher | undefined;
      let closed = false;
      // The runs this stream watches now: a final run leaves it once delivered.
      const watching = new Set<string>();
      const reading = (async () => {
        for await (const request of requests) {
          const withParameters = request.includeParameters;
          watcher ??= {
            finalOnly: request.finalOnly,
            deliver(runs) {
              for (const run of runs) if (FINAL_STATES.has(run.state)) watching.delete(run.id);
              out.push({ taskRuns: runs.map((run) => withoutParameters(runToProto(run), withParameters)) });
            },
          };
          if (request.unwatchRunIds.length > 0) {
            broker.unwatch(watcher, request.unwatchRunIds);
            for (const id of request.unwatchRunIds) watching.delete(id);
          }
          // An id already watched is not read again: repeating one id must cost nothing.
          const fresh = [...new Set(request.runIds)].filter((id) => id && !watching.has(id));
          if (watching.size + fresh.length > MAX_WATCHED_RUNS) {
            throw new ConnectError(
              `run_ids: this stream would watch ${watching.size + fresh.length} runs, over the maximum of ${MAX_WATCHED_RUNS} per WatchTaskRuns stream; unwatch some or open another stream`,
              Code.ResourceExhausted,
            );
          }
          for (const id of fresh) watching.add(id);
          for (let i = 0; i < fresh.length && !closed; i += WATCH_STEP) {
            const unknown = await broker.watch(watcher, fresh.slice(i, i + WATCH_STEP));
            // The caller went away while this watch was being set up: undo it.
            if (closed) broker.unwatch(watcher);
            for (const id of unknown) watching.delete(id);
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
        leave();
      }
    },
    async cancelTaskRun(request) {
      // The run as the cancel left it (the lease's, or the commit's): only its history is read.
      const run = await broker.cancel(requireId(request.id));
      return { taskRun: runToProto(run, await store.getHistory(run.id)) };
    },
    async setConcurrencyLimit(request) {
      const tag = request.tag.trim();
      if (!tag) throw new ConnectError("tag: must not be empty", Code.InvalidArgument);
      if (tag.length > MAX_TAG_LENGTH) {
        throw new ConnectError(`tag: ${tag.length} characters, over the maximum of ${MAX_TAG_LENGTH}`, Code.InvalidArgument);
      }
      const existing = await broker.listConcurrencyLimits();
      if (existing.length >= MAX_CONCURRENCY_LIMITS && !existing.some((l) => l.tag === tag)) {
        throw new ConnectError(
          `tag: ${MAX_CONCURRENCY_LIMITS} concurrency limits already exist, the maximum; delete one before adding ${JSON.stringify(tag)}`,
          Code.ResourceExhausted,
        );
      }
      return { concurrencyLimit: await broker.setConcurrencyLimit(tag, request.limit) };
    },
    async listConcurrencyLimits() {
      return { concurrencyLimits: await broker.listConcurrencyLimits() };
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
    async retryTaskRun(request) {
      const id = await retryTaskRun(broker, requireId(request.id));
      return { taskRun: await runWithHistory(id) };
    },
  };
}

/** Watchers get parameters only when they asked: they may be megabytes per run. */
function withoutParameters(run: TaskRun, keep: boolean): TaskRun {
  if (!keep) run.parameters = undefined;
  return run;
}

function requireId(id: string): string {
  if (!id) throw new ConnectError("id: must not be empty", Code.InvalidArgument);
  return id;
}
