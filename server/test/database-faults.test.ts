import { copyFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTaskwireClient, task } from "taskwire";
import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../src/server.js";
import type { SqliteStore } from "../src/store/sqlite-store.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// Real SQLite files under a real server: the disk fills up, the file is deleted or replaced.
let server: TestServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the call succeeded").toBeDefined();
  return ConnectError.from(error);
}

const echo = (s: TestServer) => task("echo", (_value: string) => "", { client: s.client });

/** The argument of every echo run stored. */
async function storedArguments(s: TestServer): Promise<string[]> {
  const { taskRuns } = await s.client.taskRuns.listTaskRuns({ taskKeys: ["echo"], pageSize: 1000 });
  const runs = await Promise.all(taskRuns.map(({ id }) => s.client.taskRuns.getTaskRun({ id })));
  return runs.map(({ taskRun }) => JSON.parse(new TextDecoder().decode(taskRun?.parameters?.data)).args[0] as string).sort();
}

describe("a full disk", () => {
  it("answers delay() at once naming the file, stores nothing of it, and takes new runs once there is space", async () => {
    server = await startTestServer();
    const database = (server.server.store as SqliteStore).database;
    await echo(server).delay("before");
    // The file may not grow by a page: SQLite fails the commit with a real SQLITE_FULL.
    database.pragma(`max_page_count = ${database.pragma("page_count", { simple: true })}`);

    const error = await refusal(echo(server).delay("x".repeat(256 * 1024)));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain(join(server.home, "taskwire.db"));
    expect(error.rawMessage).toContain("SQLITE_FULL");

    database.pragma("max_page_count = 4294967294");
    await echo(server).delay("after");
    // The refused run was dropped, not kept for a retry that would commit it behind the
    // caller's back: the commit of "after" would have carried it.
    expect(await storedArguments(server)).toEqual(["after", "before"]);
  });
});

describe("the database file deleted or replaced under a running server", () => {
  async function expectRefusedAndUnhealthy(s: TestServer, what: string) {
    for (const value of ["first write after", "second write after"]) {
      const error = await refusal(echo(s).delay(value));
      expect(error.code).toBe(Code.Unavailable);
      expect(error.rawMessage).toContain(join(s.home, "taskwire.db"));
      expect(error.rawMessage).toContain(what);
    }
    const health = await fetch(`${s.server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.text()).toContain(what);
  }

  it("refuses writes once the file is deleted, and /healthz says why", async () => {
    server = await startTestServer();
    await echo(server).delay("before");
    rmSync(join(server.home, "taskwire.db"));
    await expectRefusedAndUnhealthy(server, "deleted");
  });

  it("refuses writes once the file is replaced, and nothing refused is there after a restart", async () => {
    server = await startTestServer();
    await echo(server).delay("before");
    const file = join(server.home, "taskwire.db");
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);
    await expectRefusedAndUnhealthy(server, "replaced");

    await server.server.close();
    const restarted = await startServer({ host: "127.0.0.1", port: 0, home: server.home, logLevel: "silent" });
    server.client.close();
    server.server = restarted;
    server.client = createTaskwireClient({ apiUrl: restarted.url, apiKey: "" });
    const stored = await storedArguments(server);
    expect(stored).not.toContain("first write after");
    expect(stored).not.toContain("second write after");
  });
});
