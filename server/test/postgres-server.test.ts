import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, createWorker, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { json } from "./support/json-payload.js";
import { usePostgres } from "./support/postgres-database.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually } from "./support/test-server.js";

// `taskwire server start --database-url postgresql://…` as a real process, with real workers.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));
const postgres = usePostgres();

let home: string;
let databaseUrl: string;
let port: number;
let url: string;
let client: TaskwireClient;
const children: ChildProcess[] = [];

const env = () => ({ TASKWIRE_HOME: home, TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn" });

async function startServer(serverPort = port) {
  const args = [cli, "server", "start", "--port", String(serverPort), "--database-url", databaseUrl];
  const child = await startProcess(args, env(), "listening on");
  children.push(child);
  return child;
}

async function startWorker(exportName: string) {
  const child = await startProcess([cli, "task", "serve", `${fixtures}:${exportName}`, "--limit", "1"], env(), "serving");
  children.push(child);
  return child;
}

function killHard(child: ChildProcess) {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  return exited;
}

const stateOf = async (id: string) => TaskRunState[(await client.taskRuns.getTaskRun({ id })).taskRun?.state ?? 0];

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-postgres-server-"));
  databaseUrl = await postgres.newSchema();
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

afterEach(async () => {
  client.close();
  await Promise.all(children.splice(0).map((child) => (child.exitCode === null && child.signalCode === null ? killHard(child) : undefined)));
  rmSync(home, { recursive: true, force: true });
});

describe("a server on PostgreSQL", () => {
  it("runs a delayed task on a TypeScript worker and returns its result", async () => {
    await startServer();
    await startWorker("echo");
    const echo = task("echo", (_value: unknown) => undefined as unknown, { client });
    const run = await echo.delay({ hello: "postgres" });
    expect(await run.result(20_000)).toEqual({ hello: "postgres" });
    const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
    expect(TaskRunState[taskRun?.state ?? 0]).toBe("COMPLETED");
    // Stored in PostgreSQL, not in an SQLite file in TASKWIRE_HOME.
    const { default: pg } = await import("pg");
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT state FROM task_runs WHERE id = $1", [run.id]);
      expect(rows).toEqual([{ state: "COMPLETED" }]);
    } finally {
      await db.end();
    }
  });

  it("shares one database between servers: a run scheduled through one is run by a worker of another, its result awaited on the first", async () => {
    await startServer();
    const otherPort = await freePort();
    await startServer(otherPort);
    const worker = openRawWorker(`http://127.0.0.1:${otherPort}`, { taskKeys: ["shared"], limit: 2 });
    try {
      // The worker's stream is open once a first run reaches it.
      const { id: warmup } = await client.taskRuns.scheduleTaskRun({ run: { taskKey: "shared" } });
      await eventually(() => worker.assignments.some((a) => a.runId === warmup), 10_000);
      // Idle now, the other server hears of the next run from the change feed, not a poll.
      const { id } = await client.taskRuns.scheduleTaskRun({ run: { taskKey: "shared" } });
      const waiting = client.taskRuns.waitTaskRun({ id, timeoutMs: 20_000 });
      await eventually(() => worker.assignments.some((a) => a.runId === id), 5_000);
      const assignment = worker.assignments.find((a) => a.runId === id);
      const ref = { runId: id, leaseToken: assignment?.leaseToken ?? "" };
      worker.send({ message: { case: "started", value: { runs: [ref] } } });
      worker.send({ message: { case: "completed", value: { results: [{ ...ref, result: json("done elsewhere") }] } } });
      const { taskRun, final } = await waiting;
      expect(final).toBe(true);
      expect(TaskRunState[taskRun?.state ?? 0]).toBe("COMPLETED");
      expect(new TextDecoder().decode(taskRun?.result?.data)).toBe('"done elsewhere"');
    } finally {
      await worker.kill();
    }
  });

  it("answers WorkerService.Heartbeat for a stream held by another server, extending its leases in the store", async () => {
    await startServer();
    const otherPort = await freePort();
    await startServer(otherPort);
    const worker = openRawWorker(`http://127.0.0.1:${otherPort}`, { taskKeys: ["beat"], limit: 1 });
    const { default: pg } = await import("pg");
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const { id } = await client.taskRuns.scheduleTaskRun({ run: { taskKey: "beat" } });
      await eventually(() => worker.assignments.some((a) => a.runId === id), 10_000);
      const welcome = worker.received.find((m) => m.message.case === "welcome");
      const sessionId = welcome?.message.case === "welcome" ? welcome.message.value.sessionId : "";
      const ref = { runId: id, leaseToken: worker.assignments[0].leaseToken };
      const deadline = async () => Number((await db.query("SELECT lease_deadline FROM task_runs WHERE id = $1", [id])).rows[0].lease_deadline);
      const before = await deadline();
      // Sent to the first server; the stream is the second one's.
      const { refused } = await client.workers.heartbeat({ sessionId, runs: [ref, { runId: id, leaseToken: "stale" }] });
      expect(refused.map((r) => r.leaseToken)).toEqual(["stale"]);
      expect(await deadline()).toBeGreaterThan(before);
    } finally {
      await db.end();
      await worker.kill();
    }
  });

  it("lists the workers connected to every live server, and not those of a server killed", async () => {
    await startServer();
    const otherPort = await freePort();
    const other = await startServer(otherPort);
    const here = openRawWorker(url, { taskKeys: ["listed"], limit: 2 });
    const there = openRawWorker(`http://127.0.0.1:${otherPort}`, { taskKeys: ["listed", "also"], limit: 3 });
    try {
      const listed = async () => (await client.workers.listWorkers({})).workers;
      await eventually(async () => (await listed()).length === 2, 10_000);
      const workers = (await listed()).sort((a, b) => a.limit - b.limit);
      expect(workers.map((w) => [w.taskKeys, w.limit, w.language])).toEqual([
        [["listed"], 2, "test"],
        [["listed", "also"], 3, "test"],
      ]);
      expect(workers.every((w) => w.connectedAt !== undefined && w.serverId !== "")).toBe(true);
      expect(new Set(workers.map((w) => w.serverId)).size).toBe(2);
      await killHard(other);
      await eventually(async () => (await listed()).length === 1, 10_000);
      expect((await listed())[0].taskKeys).toEqual(["listed"]);
    } finally {
      await here.kill();
      await there.kill();
    }
  });

  it("stops a run held through another server when the cancel arrives at this one", async () => {
    await startServer();
    const otherPort = await freePort();
    await startServer(otherPort);
    const worker = openRawWorker(`http://127.0.0.1:${otherPort}`, { taskKeys: ["held"], limit: 1 });
    try {
      const { id } = await client.taskRuns.scheduleTaskRun({ run: { taskKey: "held" } });
      await eventually(() => worker.assignments.some((a) => a.runId === id), 10_000);
      const ref = { runId: id, leaseToken: worker.assignments[0].leaseToken };
      worker.send({ message: { case: "started", value: { runs: [ref] } } });
      await eventually(async () => (await stateOf(id)) === "RUNNING");
      await client.taskRuns.cancelTaskRun({ id });
      const cancelled = () =>
        worker.received.some((m) => m.message.case === "cancel" && m.message.value.runIds.includes(id));
      await eventually(cancelled, 5_000);
      // The worker stops it and says so: the run ends CANCELLED, not FAILED.
      const error = { type: "Cancelled", message: "stopped", stack: "", retryable: false };
      worker.send({ message: { case: "failed", value: { failures: [{ ...ref, error }] } } });
      await eventually(async () => (await stateOf(id)) === "CANCELLED", 5_000);
    } finally {
      await worker.kill();
    }
  });

  it("completes every run after the server is killed with runs SCHEDULED, PENDING and RUNNING", async () => {
    const server = await startServer();
    await startWorker("slow");
    const slow = task("slow", (_seconds: number, _value: string) => "", { client });
    const held = task(function held(value: string) {
      return value;
    }, { client });
    const unacked = openRawWorker(url, { taskKeys: ["held"], limit: 1 });

    const slowRuns = await Promise.all(["a", "b", "c"].map((value) => slow.delay(1.5, value)));
    const heldRuns = await Promise.all(["x", "y"].map((value) => held.delay(value)));
    const states = async () => Promise.all([...slowRuns, ...heldRuns].map((run) => stateOf(run.id)));
    await eventually(async () => {
      const now = await states();
      return now.includes("RUNNING") && now.includes("PENDING") && now.includes("SCHEDULED");
    });

    await killHard(server);
    await unacked.kill();
    // The killed server's session ended with it, and its lock with the session: a new
    // server may start at once.
    await startServer();
    const heldWorker = createWorker({ tasks: [held], client, log: () => {} });
    void heldWorker.start();
    try {
      expect(await Promise.all(slowRuns.map((run) => run.result(30_000)))).toEqual(["a", "b", "c"]);
      expect(await Promise.all(heldRuns.map((run) => run.result(30_000)))).toEqual(["x", "y"]);
    } finally {
      await heldWorker.stop();
    }
  });
});
