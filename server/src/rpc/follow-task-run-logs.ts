import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncQueue } from "taskwire/async-queue";
import type { FollowTaskRunLogsRequest, FollowTaskRunLogsResponseSchema } from "taskwire/proto";
import type { Broker } from "../broker/broker.js";
import type { Watcher } from "../broker/watch-registry.js";
import type { LogFeed } from "../store/log-feed.js";
import type { LogRecord, RunRecord, Store } from "../store/store.js";
import { logToProto, runToProto } from "./run-codec.js";
import { timestampFieldMs } from "./timestamp-field.js";

type Response = MessageInitShape<typeof FollowTaskRunLogsResponseSchema>;

// Lines per message: 1,000 lines of a few hundred bytes stay far below 4 MiB.
const LINES_PER_MESSAGE = 1_000;

/**
 * `FollowTaskRunLogs`: the lines stored so far, then each line as its commit stores it,
 * then the final run. The feed is listened to and the run watched before the stored lines
 * are read, so no line falls between the two; a line seen by both is sent once.
 */
export async function* followTaskRunLogs(
  request: FollowTaskRunLogsRequest,
  signal: AbortSignal,
  { broker, store, logFeed }: { broker: Broker; store: Store; logFeed: LogFeed },
): AsyncGenerator<Response> {
  const runId = request.runId;
  if (!runId) throw new ConnectError("run_id: must not be empty", Code.InvalidArgument);
  await broker.getRun(runId);
  const after = request.after ? timestampFieldMs("after", request.after) : -1;

  const out = createAsyncQueue<Response>();
  let caughtUp = false;
  let buffered: LogRecord[] = [];
  let finalRun: RunRecord | undefined;
  const finish = (run: RunRecord) => {
    out.push({ finalTaskRun: runToProto(run, [], false) });
    out.close();
  };
  const stopFeed = logFeed.onLogs((lines) => {
    const mine = lines.filter((line) => line.runId === runId && line.at > after);
    if (mine.length === 0) return;
    if (caughtUp) send(mine);
    else buffered.push(...mine);
  });
  const watcher: Watcher = {
    finalOnly: true,
    deliver(runs) {
      finalRun = runs.find((run) => run.id === runId);
      if (finalRun && caughtUp) finish(finalRun);
    },
  };
  const send = (lines: LogRecord[]) => {
    for (let i = 0; i < lines.length; i += LINES_PER_MESSAGE) {
      out.push({ lines: lines.slice(i, i + LINES_PER_MESSAGE).map(logToProto) });
    }
  };
  const onAbort = () => out.close();
  signal.addEventListener("abort", onAbort);

  try {
    const unknown = await broker.watch(watcher, [runId]);
    if (unknown.length > 0) throw new ConnectError(`task run "${runId}" not found`, Code.NotFound);
    const stored = await readLogs(store, runId, after);
    send(stored);
    // Lines committed while the stored ones were read are in both: send each once.
    const seen = new Map<string, number>();
    for (const line of stored) seen.set(lineKey(line), (seen.get(lineKey(line)) ?? 0) + 1);
    const fresh = buffered.filter((line) => {
      const count = seen.get(lineKey(line)) ?? 0;
      if (count > 0) seen.set(lineKey(line), count - 1);
      return count === 0;
    });
    buffered = [];
    send(fresh);
    caughtUp = true;
    if (finalRun) finish(finalRun);
    yield* out;
  } finally {
    signal.removeEventListener("abort", onAbort);
    stopFeed();
    broker.unwatch(watcher);
  }
}

async function readLogs(store: Store, runId: string, after: number): Promise<LogRecord[]> {
  const pageSize = 10_000; // the store's largest read of logs
  const lines: LogRecord[] = [];
  for (let from = after, skip = 0; ; ) {
    const page = await store.listLogs(runId, from, pageSize);
    const added = page.slice(skip);
    lines.push(...added);
    // A full page of lines already seen: over 10,000 lines in one millisecond; stop there.
    if (page.length < pageSize || added.length === 0) return lines;
    // Lines of the page's last millisecond may go on: read again from just before it,
    // skipping those already taken (the store orders lines by time, then as stored).
    const last = lines[lines.length - 1].at;
    from = last - 1;
    skip = lines.filter((line) => line.at === last).length;
  }
}

function lineKey(line: LogRecord): string {
  return `${line.at}\u0000${line.attempt}\u0000${line.level}\u0000${line.message}`;
}
