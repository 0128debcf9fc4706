import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "taskwire/async-queue";
import { TaskRunService, type WatchTaskRunsRequestSchema, type WatchTaskRunsResponse } from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_CONCURRENCY_LIMITS, MAX_WAITS_PER_CONNECTION, MAX_WATCHED_RUNS } from "../src/rpc/task-run-service.js";
import { startServer } from "../src/server.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { json } from "./support/json-payload.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";

let server: TestServer;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  server = await startTestServer();
  cleanups.push(() => server.stop());
  // One HTTP/2 connection for every call of this client.
  const client = createClient(TaskRunService, createGrpcTransport({ baseUrl: server.server.url }));
  // 64 KiB of parameters: enough that 300 copies would show, little enough to run anywhere.
  const parameters = json({ args: ["x".repeat(64 * 1024)], kwargs: {} });
  const { id } = await client.scheduleTaskRun({ run: { taskKey: "nobody-serves-this", parameters } });
  return { client, id };
}

function watch(client: ReturnType<typeof createClient<typeof TaskRunService>>) {
  const requests = createAsyncQueue<MessageInitShape<typeof WatchTaskRunsRequestSchema>>();
  const responses: WatchTaskRunsResponse[] = [];
  const abort = new AbortController();
  let error: unknown;
  const done = (async () => {
    try {
      for await (const response of client.watchTaskRuns(requests, { signal: abort.signal })) responses.push(response);
    } catch (e) {
      error = e;
    }
  })();
  cleanups.push(() => {
    abort.abort();
    return done;
  });
  return {
    send: (request: MessageInitShape<typeof WatchTaskRunsRequestSchema>) => requests.push(request),
    responses,
    done,
    get error() {
      return error;
    },
  };
}

describe("WatchTaskRuns", () => {
  it("reads and sends a run once however often its id is repeated, without its parameters", async () => {
    const { client, id } = await setup();
    const watcher = watch(client);
    watcher.send({ runIds: Array.from({ length: 300 }, () => id) });
    watcher.send({ runIds: [id, id, id] });
    await client.cancelTaskRun({ id });
    await eventually(() => watcher.responses.some((r) => r.taskRuns.some((run) => run.endTime)));
    const sent = watcher.responses.flatMap((r) => r.taskRuns);
    // The snapshot when the watch began, then the run once cancelled: two, not 303 or 600.
    expect(sent).toHaveLength(2);
    expect(sent.every((run) => run.id === id && run.parameters === undefined)).toBe(true);
  });

  it("sends parameters to a watcher that asks for them", async () => {
    const { client, id } = await setup();
    const watcher = watch(client);
    watcher.send({ runIds: [id], includeParameters: true });
    await eventually(() => watcher.responses.length > 0);
    expect(watcher.responses[0].taskRuns[0].parameters?.data.length).toBeGreaterThan(64 * 1024);
  });

  it(`refuses to watch more than ${MAX_WATCHED_RUNS} runs on one stream`, async () => {
    const { client } = await setup();
    const watcher = watch(client);
    watcher.send({ runIds: Array.from({ length: MAX_WATCHED_RUNS + 1 }, (_, i) => `r${i}`) });
    await watcher.done;
    const error = ConnectError.from(watcher.error);
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain(`over the maximum of ${MAX_WATCHED_RUNS} per WatchTaskRuns stream`);
  });
});

describe("WaitTaskRun", () => {
  it(`holds at most ${MAX_WAITS_PER_CONNECTION} waits open on one connection`, async () => {
    const { client, id } = await setup();
    const extra = 20;
    const waits = Array.from({ length: MAX_WAITS_PER_CONNECTION + extra }, () =>
      client.waitTaskRun({ id, timeoutMs: 60_000 }).then(
        (response) => response.final,
        (error: unknown) => ConnectError.from(error),
      ),
    );
    const refused = await eventually(async () => {
      const settled = await Promise.all(waits.map((wait) => Promise.race([wait, Promise.resolve(undefined)])));
      const errors = settled.filter((s) => s instanceof ConnectError);
      return errors.length === extra && errors;
    });
    expect(refused.every((e) => e.code === Code.ResourceExhausted && e.rawMessage.includes(`${MAX_WAITS_PER_CONNECTION} calls already open`))).toBe(true);
    await client.cancelTaskRun({ id });
    const answered = await Promise.all(waits);
    expect(answered.filter((final) => final === true)).toHaveLength(MAX_WAITS_PER_CONNECTION);
  });
});

describe("limits on names", () => {
  it("refuses a Hello with too many task keys, or one too long", async () => {
    const { client } = await setup();
    void client;
    const many = openRawWorker(server.server.url, { taskKeys: Array.from({ length: 1_001 }, (_, i) => `task-${i}`), limit: 1 });
    const long = openRawWorker(server.server.url, { taskKeys: ["k".repeat(257)], limit: 1 });
    await Promise.all([many.done, long.done]);
    expect(ConnectError.from(many.error).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(many.error).rawMessage).toContain("1001 task keys, over the maximum of 1000");
    expect(ConnectError.from(long.error).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(long.error).rawMessage).toContain("257 characters, over the maximum of 256");
  });

  it("refuses a concurrency-limit tag over 256 characters", async () => {
    const { client } = await setup();
    const error = await client.setConcurrencyLimit({ tag: "t".repeat(257), limit: 1 }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toContain("over the maximum of 256");
  });
});

describe("concurrency limits", () => {
  it(`refuses a new tag once ${MAX_CONCURRENCY_LIMITS} limits exist, and still replaces existing ones`, async () => {
    const home = mkdtempSync(join(tmpdir(), "taskwire-limits-"));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const path = join(home, "taskwire.db");
    await createSqliteStore({ path }).close();
    // One transaction for the first 9,999: through the API each is its own durable commit.
    const db = new Database(path);
    const insert = db.prepare('INSERT INTO concurrency_limits (tag, "limit") VALUES (?, 1)');
    db.transaction(() => {
      for (let i = 1; i < MAX_CONCURRENCY_LIMITS; i++) insert.run(`tag-${i}`);
    })();
    db.close();
    const running = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent" });
    cleanups.push(() => running.close());
    const client = createClient(TaskRunService, createGrpcTransport({ baseUrl: running.url }));
    expect((await client.setConcurrencyLimit({ tag: "the-last-one", limit: 1 })).concurrencyLimit?.limit).toBe(1);
    const error = await client.setConcurrencyLimit({ tag: "one-more", limit: 1 }).catch((e: unknown) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).rawMessage).toContain(`${MAX_CONCURRENCY_LIMITS} concurrency limits already exist`);
    expect((await client.setConcurrencyLimit({ tag: "tag-1", limit: 2 })).concurrencyLimit?.limit).toBe(2);
  });
});
