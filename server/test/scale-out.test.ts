import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { usePostgres } from "./support/postgres-database.js";
import { eventually } from "./support/test-server.js";

// Three server processes on one PostgreSQL, workers spread over them, a producer on one
// address and futures waiting on another; one server killed with SIGKILL mid-run.
// Needs `npx tsc -b` and the Python SDK's venv at sdk-python/.venv (`node scripts/test.mjs python`).
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const limitsServer = fileURLToPath(new URL("./fixtures/limits-server.mjs", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/span-tasks.ts", import.meta.url));
const pythonFixtures = fileURLToPath(new URL("./fixtures/span_tasks.py", import.meta.url));
const python = fileURLToPath(new URL("../../sdk-python/.venv/bin/python", import.meta.url));
const postgres = usePostgres();
// Short leases, so that the runs of the killed server come back within a few seconds.
const LIMITS = { leaseDurationMs: 2_000, heartbeatIntervalMs: 300, ackTimeoutMs: 1_000 };

let home: string;
let databaseUrl: string;
const children: ChildProcess[] = [];
const clients: TaskwireClient[] = [];

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-scale-out-"));
  databaseUrl = await postgres.newSchema();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(
    children.splice(0).map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      return exited;
    }),
  );
  rmSync(home, { recursive: true, force: true });
});

async function startServers(n: number): Promise<{ urls: string[]; servers: ChildProcess[] }> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const servers = await Promise.all(
    ports.map((port) =>
      startProcess(
        [limitsServer],
        {
          TASKWIRE_HOME: home,
          TASKWIRE_SERVER_PORT: String(port),
          TASKWIRE_DATABASE_URL: databaseUrl,
          TASKWIRE_TEST_LIMITS: JSON.stringify(LIMITS),
          TASKWIRE_LOG_LEVEL: "warn",
        },
        "listening on",
      ),
    ),
  );
  children.push(...servers);
  return { urls: ports.map((port) => `http://127.0.0.1:${port}`), servers };
}

/** A worker given every address, starting with the `first`-th: it moves to the next on reconnect. */
async function startWorker(urls: string[], first: number, limit: number): Promise<ChildProcess> {
  const ordered = [...urls.slice(first), ...urls.slice(0, first)].join(",");
  const worker = await startProcess(
    [cli, "task", "serve", `${fixtures}:span`, "--limit", String(limit)],
    { TASKWIRE_HOME: home, TASKWIRE_API_URL: ordered, TASKWIRE_LOG_LEVEL: "warn" },
    "serving",
  );
  children.push(worker);
  return worker;
}

/** A Python worker serving `py_span`, given every address as the TypeScript ones are. */
function startPythonWorker(urls: string[], first: number, limit: number): Promise<ChildProcess> {
  if (!existsSync(python)) {
    throw new Error(`the Python SDK's venv is missing at ${python}: create it with \`node scripts/test.mjs python\``);
  }
  const ordered = [...urls.slice(first), ...urls.slice(0, first)].join(",");
  // A developer's own TASKWIRE_* settings must not reach the worker under test.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const worker = spawn(python, ["-m", "taskwire", "serve", `${pythonFixtures}:py_span`, "--limit", String(limit)], {
    env: { ...env, TASKWIRE_HOME: home, TASKWIRE_API_URL: ordered, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(worker);
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("serving")) resolve(worker);
    };
    worker.stdout.on("data", onData);
    worker.stderr.on("data", onData);
    worker.once("exit", (code) => reject(new Error(`the Python worker exited with ${code} before serving:\n${output}`)));
  });
}

function clientOf(url: string): TaskwireClient {
  const client = createTaskwireClient({ apiUrl: url, apiKey: "" });
  clients.push(client);
  return client;
}

/** Per run value, its attempts as [start, end] from the span fixture's file. */
function attemptsIn(file: string): Map<string, [number, number][]> {
  const spans = new Map<string, [number, number][]>();
  for (const line of readFileSync(file, "utf8").trim().split("\n")) {
    const [value, what, at] = line.split(" ");
    const list = spans.get(value) ?? [];
    if (what === "start") list.push([Number(at), Number.POSITIVE_INFINITY]);
    else list[list.length - 1][1] = Number(at);
    spans.set(value, list);
  }
  return spans;
}

describe("three servers on one PostgreSQL", () => {
  it("completes every acknowledged run once when a server is killed mid-run, never two attempts at once", async () => {
    const { urls, servers } = await startServers(3);
    for (let i = 0; i < 3; i++) await startWorker(urls, i, 4);
    // The Python worker starts on the server that is killed, so some of its runs are in flight then.
    await startPythonWorker(urls, 1, 4);
    const producer = clientOf(urls[0]);
    const waiter = clientOf(urls[2]);
    const span = task("span", (_file: string, value: string, _seconds: number) => value, { client: producer });
    const pySpan = task("py_span", (_file: string, value: string, _seconds: number) => value, { client: producer });
    const file = join(home, "spans.txt");
    const pyFile = join(home, "py-spans.txt");
    const values = Array.from({ length: 24 }, (_, i) => `v${i}`);
    const pyValues = Array.from({ length: 8 }, (_, i) => `p${i}`);
    const runs = await Promise.all(values.map((value) => span.delay(file, value, 1.5)));
    const pyRuns = await Promise.all(pyValues.map((value) => pySpan.delay(pyFile, value, 1.5)));
    // Futures on another server than the producer's.
    const wait = (id: string) => waiter.taskRuns.waitTaskRun({ id, timeoutMs: 60_000 });
    const results = Promise.all(runs.map((run) => wait(run.id)));
    const pyResults = Promise.all(pyRuns.map((run) => wait(run.id)));

    // Kill the second server while its workers, TypeScript and Python, are running some of the runs.
    await eventually(async () => {
      const { taskRuns } = await waiter.taskRuns.listTaskRuns({ states: [TaskRunState.RUNNING] });
      return taskRuns.length >= 6 && taskRuns.some((run) => run.taskKey === "py_span");
    }, 10_000);
    servers[1].kill("SIGKILL");

    for (const [done, expected, spans] of [
      [await results, values, file],
      [await pyResults, pyValues, pyFile],
    ] as const) {
      expect(done.map((r) => [r.final, TaskRunState[r.taskRun?.state ?? 0]])).toEqual(expected.map(() => [true, "COMPLETED"]));
      expect(done.map((r) => new TextDecoder().decode(r.taskRun?.result?.data))).toEqual(expected.map((v) => JSON.stringify(v)));
      const attempts = attemptsIn(spans);
      expect([...attempts.keys()].sort()).toEqual([...expected].sort());
      const redone = [...attempts.values()].filter((list) => list.length > 1).length;
      // The kill hit runs in flight: they ran again, after the first attempt had stopped.
      expect(redone, spans).toBeGreaterThan(0);
      for (const [value, list] of attempts) {
        for (let i = 1; i < list.length; i++) expect(list[i][0], value).toBeGreaterThanOrEqual(list[i - 1][1]);
      }
    }
  }, 90_000);

  it("stops a run held by a worker of one server when the cancel is sent to another", async () => {
    const { urls } = await startServers(3);
    await startWorker(urls, 0, 1);
    const span = task("span", (_file: string, value: string, _seconds: number) => value, { client: clientOf(urls[1]) });
    const run = await span.delay(join(home, "spans.txt"), "long", 60);
    const third = clientOf(urls[2]);
    await eventually(async () => (await third.taskRuns.getTaskRun({ id: run.id })).taskRun?.state === TaskRunState.RUNNING, 10_000);
    await third.taskRuns.cancelTaskRun({ id: run.id });
    const { taskRun } = await third.taskRuns.waitTaskRun({ id: run.id, timeoutMs: 10_000 });
    expect(TaskRunState[taskRun?.state ?? 0]).toBe("CANCELLED");
    // Stopped by its worker, not left to run its 60 s.
    await eventually(() => /long end/.test(readFileSync(join(home, "spans.txt"), "utf8")), 5_000);
  }, 60_000);
});
