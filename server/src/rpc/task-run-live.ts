import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "taskwire/async-queue";
import type { TaskRunService, WatchTaskRunListResponseSchema } from "@taskwire/proto";
import type { Broker } from "../broker/broker.js";
import type { Watcher } from "../broker/watch-registry.js";
import { FINAL_STATES, type Store } from "../store/store.js";
import type { RunChangeFeed } from "./run-change-feed.js";
import { runFilterFromRequest, runMatchesFilter } from "./run-filter.js";
import { logToProto, runToProto } from "./run-codec.js";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { timestampFieldMs } from "./timestamp-field.js";

type LiveMethods = Pick<ServiceImpl<typeof TaskRunService>, "watchTaskRunList" | "watchTaskRunLogs" | "getTaskStats">;

export interface TaskRunLiveOptions {
  broker: Broker;
  store: Store;
  feed: RunChangeFeed;
}

/** Lines read per store query while a log stream catches up. */
const LOG_PAGE = 1_000;
const DEFAULT_WINDOW_MINUTES = 60;
const MAX_WINDOW_MINUTES = 1_440;

/** The dashboard's methods of `TaskRunService`: the live list, live logs and task stats. */
export function createTaskRunLive({ broker, store, feed }: TaskRunLiveOptions): LiveMethods {
  return {
    async *watchTaskRunList(request, context) {
      const filter = runFilterFromRequest(request);
      const out = createAsyncQueue<MessageInitShape<typeof WatchTaskRunListResponseSchema>>();
      // A run's state and worker change; the rest of what the filter looks at does not. So
      // only runs that match all but those can have just left the list: only they are
      // named in unmatched_run_ids, and other task keys' traffic never reaches the stream.
      const fixedPart = { ...filter, states: [], workerId: undefined };
      const stop = feed.onRuns((runs) => {
        const matching = runs.filter((run) => runMatchesFilter(run, filter));
        const unmatched = runs
          .filter((run) => runMatchesFilter(run, fixedPart) && !runMatchesFilter(run, filter))
          .map((run) => run.id);
        if (matching.length > 0 || unmatched.length > 0) {
          out.push({ taskRuns: matching.map((run) => runToProto(run, [], false)), unmatchedRunIds: unmatched });
        }
      });
      context.signal.addEventListener("abort", () => out.close());
      out.push({});
      try {
        yield* out;
      } finally {
        stop();
      }
    },
    async *watchTaskRunLogs(request, context) {
      if (!request.runId) throw new ConnectError("run_id: must not be empty", Code.InvalidArgument);
      await broker.getRun(request.runId);
      const after = request.after ? timestampFieldMs("after", request.after) : -1;
      // Paged by the order lines were stored, not by their times: a line stored later with
      // the time of the last line sent (same millisecond, or a worker's earlier clock) is
      // still read.
      let afterSeq = 0;
      const wake = createAsyncQueue<null>();
      const stopLogs = feed.onLogs(request.runId, () => wake.push(null));
      // The broker's watchers tell of the run's end from the commit that ended it; a
      // listener of every changed run would have the live list re-read each of them.
      const ended: Watcher = { finalOnly: true, deliver: () => wake.push(null) };
      context.signal.addEventListener("abort", () => wake.close());
      try {
        await broker.watch(ended, [request.runId]);
        for (;;) {
          // Read the run's state before its lines: lines committed before it ended are
          // then all read below, and the stream may end.
          const [run] = await store.getRuns([request.runId]);
          for (;;) {
            const lines = await store.followLogs(request.runId, after, afterSeq, LOG_PAGE);
            if (lines.length === 0) break;
            afterSeq = lines[lines.length - 1].seq;
            yield { lines: lines.map(logToProto) };
            if (lines.length < LOG_PAGE) break;
          }
          if (!run) return;
          if (FINAL_STATES.has(run.state)) {
            yield { finalTaskRun: runToProto(run, [], false) };
            return;
          }
          const next = await wake[Symbol.asyncIterator]().next();
          if (next.done) return;
        }
      } finally {
        stopLogs();
        broker.unwatch(ended);
      }
    },
    async getTaskStats(request) {
      const minutes = request.windowMinutes === 0 ? DEFAULT_WINDOW_MINUTES : request.windowMinutes;
      if (minutes > MAX_WINDOW_MINUTES) {
        throw new ConnectError(`window_minutes: ${minutes} is over the maximum of ${MAX_WINDOW_MINUTES} (one day)`, Code.InvalidArgument);
      }
      // Whole minutes, the current one last, so each bar of a chart is one clock minute.
      const since = (Math.floor(Date.now() / 60_000) - minutes + 1) * 60_000;
      const tasks = await store.taskStats(since, minutes);
      return {
        windowStart: timestampFromMs(since),
        windowMinutes: minutes,
        tasks: tasks.map((task) => ({
          ...task,
          durationP50Seconds: task.durationP50Ms / 1000,
          durationP95Seconds: task.durationP95Ms / 1000,
          durationP99Seconds: task.durationP99Ms / 1000,
        })),
      };
    },
  };
}
