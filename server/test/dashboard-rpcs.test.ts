import { Code, ConnectError } from "@connectrpc/connect";
import { createWorker, currentRun, task } from "taskwire";
import { TaskRunState, type WatchTaskRunListResponse } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { json } from "./support/json-payload.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";

// The RPCs behind the web UI, against a real server on a real socket.
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.stop();
});

/** Opens WatchTaskRunList and collects what it sends; resolves once the watch is in place. */
async function watchList(filter: Parameters<TestServer["client"]["taskRuns"]["watchTaskRunList"]>[0]) {
  const abort = new AbortController();
  const messages: WatchTaskRunListResponse[] = [];
  const stream = t.client.taskRuns.watchTaskRunList(filter, { signal: abort.signal })[Symbol.asyncIterator]();
  const first = await stream.next();
  expect(first.value?.taskRuns).toEqual([]);
  void (async () => {
    try {
      for (let next = await stream.next(); !next.done; next = await stream.next()) messages.push(next.value);
    } catch {
      // Aborted at the end of the test.
    }
  })();
  return { messages, stop: () => abort.abort() };
}

describe("WatchTaskRunList", () => {
  it("sends runs created after the watch began, then their changes, and drops those that leave the filter", async () => {
    const all = await watchList({ taskKeys: ["listed"] });
    const scheduledOnly = await watchList({ taskKeys: ["listed"], states: [TaskRunState.SCHEDULED] });
    const { id } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "listed", options: { tags: ["web"] } } });
    const { id: other } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "not_listed" } });
    await eventually(() => all.messages.some((m) => m.taskRuns.some((run) => run.id === id)));
    await eventually(() => scheduledOnly.messages.some((m) => m.taskRuns.some((run) => run.id === id)));
    await t.client.taskRuns.cancelTaskRun({ id });
    await eventually(() => all.messages.some((m) => m.taskRuns.some((run) => run.id === id && run.state === TaskRunState.CANCELLED)));
    await eventually(() => scheduledOnly.messages.some((m) => m.unmatchedRunIds.includes(id)));
    const keys = all.messages.flatMap((m) => m.taskRuns.map((run) => run.taskKey));
    expect(new Set(keys)).toEqual(new Set(["listed"]));
    // Runs of other task keys never reach these streams, not even as unmatched ids.
    expect(all.messages.flatMap((m) => m.unmatchedRunIds)).toEqual([]);
    expect(scheduledOnly.messages.flatMap((m) => m.unmatchedRunIds)).not.toContain(other);
    // Listed runs carry no payloads, as in ListTaskRuns.
    expect(all.messages[0].taskRuns[0].parameters).toBeUndefined();
    all.stop();
    scheduledOnly.stop();
  });

  it("refuses an id search that cannot match an id", async () => {
    const stream = t.client.taskRuns.watchTaskRunList({ idPrefix: "<script>" });
    const error = await stream[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(error).rawMessage).toMatch(/id_prefix: "<script>" is not the start of a run id/);
  });
});

describe("ListTaskRuns filters", () => {
  it("filters by worker, id prefix and creation time", async () => {
    const echo = task(function dashboard_echo(value: string) {
      return value;
    }, { client: t.client });
    const worker = createWorker({ tasks: [echo], client: t.client, log: () => {} });
    void worker.start();
    try {
      const before = Date.now();
      const run = await echo.delay("a");
      await run.result(10_000);
      const byWorker = await t.client.taskRuns.listTaskRuns({ workerId: worker.workerId });
      expect(byWorker.taskRuns.map((r) => r.id)).toEqual([run.id]);
      expect((await t.client.taskRuns.listTaskRuns({ idPrefix: run.id.slice(0, 20) })).taskRuns.map((r) => r.id)).toContain(run.id);
      const later = { seconds: BigInt(Math.floor(before / 1000) + 3600), nanos: 0 };
      expect((await t.client.taskRuns.listTaskRuns({ taskKeys: ["dashboard_echo"], createdAfter: later })).taskRuns).toEqual([]);
      expect((await t.client.taskRuns.listTaskRuns({ taskKeys: ["dashboard_echo"], createdBefore: later })).taskRuns).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });
});

describe("WatchTaskRunLogs", () => {
  it("sends the lines stored so far, each new line as it is stored, and ends with the final run", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const talk = task(async function dashboard_talk() {
      currentRun()?.log("first");
      await gate;
      currentRun()?.log("second", "warn");
      return "done";
    }, { client: t.client });
    const worker = createWorker({ tasks: [talk], client: t.client, log: () => {} });
    void worker.start();
    try {
      const run = await talk.delay();
      const lines: string[] = [];
      const finalStates: TaskRunState[] = [];
      const reading = (async () => {
        for await (const message of t.client.taskRuns.watchTaskRunLogs({ runId: run.id })) {
          lines.push(...message.lines.map((line) => `${line.level} ${line.message}`));
          if (message.finalTaskRun) finalStates.push(message.finalTaskRun.state);
        }
      })();
      await eventually(() => lines.includes("info first"));
      expect(lines).toEqual(["info first"]);
      release();
      await reading;
      expect(lines).toEqual(["info first", "warn second"]);
      // Once, on the last message.
      expect(finalStates).toEqual([TaskRunState.COMPLETED]);
    } finally {
      await worker.stop();
    }
  });

  it("sends a line stored after the last one sent with the same time", async () => {
    // A worker gives each line's time; two lines in one millisecond (or a worker's clock
    // stepping back) must both reach a stream that already sent the first.
    const worker = openRawWorker(t.server.url, { taskKeys: ["same_millisecond"], limit: 1 });
    const abort = new AbortController();
    try {
      const { id } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "same_millisecond" } });
      await eventually(() => worker.assignments.length === 1);
      const lease = { runId: id, leaseToken: worker.assignments[0].leaseToken };
      worker.send({ message: { case: "started", value: { runs: [lease] } } });
      const time = timestampFromMs(Date.now());
      const log = (message: string, at = time) =>
        worker.send({ message: { case: "logs", value: { lines: [{ ...lease, time: at, level: "info", message }] } } });
      log("first");
      const lines: string[] = [];
      void (async () => {
        for await (const message of t.client.taskRuns.watchTaskRunLogs({ runId: id }, { signal: abort.signal })) {
          lines.push(...message.lines.map((line) => line.message));
        }
      })().catch(() => {});
      await eventually(() => lines.includes("first"));
      log("second, same millisecond");
      log("third, a millisecond earlier", timestampFromMs(Number(time.seconds) * 1000 + time.nanos / 1e6 - 1));
      log("fourth");
      await eventually(() => lines.includes("fourth"));
      expect(lines).toEqual(["first", "second, same millisecond", "third, a millisecond earlier", "fourth"]);
    } finally {
      abort.abort();
      await worker.kill();
    }
  });

  it("answers NOT_FOUND for an unknown run", async () => {
    const error = await t.client.taskRuns.watchTaskRunLogs({ runId: "no-such-run" })[Symbol.asyncIterator]().next().catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
  });
});

describe("GetTaskStats", () => {
  it("counts the queue, what finished this minute, and refuses a window over a day", async () => {
    await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "stats_queued", parameters: json({ args: [], kwargs: {} }) } });
    await t.client.taskRuns.recordTaskRun({ taskKey: "stats_done", state: TaskRunState.COMPLETED });
    await t.client.taskRuns.recordTaskRun({ taskKey: "stats_done", state: TaskRunState.FAILED });
    const stats = await t.client.taskRuns.getTaskStats({});
    expect(stats.windowMinutes).toBe(60);
    const queued = stats.tasks.find((s) => s.taskKey === "stats_queued");
    expect(queued?.scheduled).toBe(1);
    const done = stats.tasks.find((s) => s.taskKey === "stats_done");
    expect(done?.completedPerMinute).toHaveLength(60);
    expect(done?.completedPerMinute.reduce((a, b) => a + b, 0)).toBe(1);
    expect(done?.failedPerMinute.reduce((a, b) => a + b, 0)).toBe(1);
    const error = await t.client.taskRuns.getTaskStats({ windowMinutes: 2000 }).catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
  });
});
