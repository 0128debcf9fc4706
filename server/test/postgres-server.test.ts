import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, createWorker, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
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

  it("refuses a second server on the same database, naming the reason", async () => {
    await startServer();
    const second = spawn(process.execPath, [cli, "server", "start", "--port", String(await freePort()), "--database-url", databaseUrl], {
      env: { ...process.env, ...env() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(second);
    let output = "";
    // Settles when it exits, or as soon as it says it listens (then it wrongly started).
    const code = await new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (output.includes("listening on")) resolve("listening");
      };
      second.stdout.on("data", onData);
      second.stderr.on("data", onData);
      second.once("exit", resolve);
    });
    expect(code).not.toBe("listening");
    expect(code).not.toBe(0);
    expect(output).toContain("another taskwire server is serving");
    expect(output).toContain("only one server per PostgreSQL database");
    expect(output).not.toContain("listening on");
    // The first one still serves.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
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
