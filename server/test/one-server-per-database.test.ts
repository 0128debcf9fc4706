import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { eventually } from "./support/test-server.js";

// Real `taskwire server start` processes on one TASKWIRE_HOME: a second server would
// re-queue the first one's runs in flight and both would run them.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));

let home: string;
let url: string;
let client: TaskwireClient;
const children: ChildProcess[] = [];

const env = () => ({ TASKWIRE_HOME: home, TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn" });

async function startServer(port: number) {
  const child = await startProcess([cli, "server", "start", "--port", String(port)], env(), "listening on");
  children.push(child);
  return child;
}

/** Runs a server start to its end, or until it listens: its exit code ("listening") and stderr. */
function runServerToExit(port: number): Promise<{ code: number | null | "listening"; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, "server", "start", "--port", String(port)], {
      env: { ...process.env, ...env() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("listening on") && resolve({ code: "listening", stderr }));
    child.once("exit", (code) => resolve({ code, stderr }));
  });
}

function killHard(child: ChildProcess) {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  return exited;
}

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-one-server-"));
  url = `http://127.0.0.1:${await freePort()}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

afterEach(async () => {
  client.close();
  await Promise.all(children.splice(0).map((child) => (child.exitCode === null && child.signalCode === null ? killHard(child) : undefined)));
  rmSync(home, { recursive: true, force: true });
});

describe("one server per database", () => {
  it("refuses a second server on the same database, naming the file and the first server's pid", async () => {
    const port = Number(new URL(url).port);
    const first = await startServer(port);
    const worker = await startProcess([cli, "task", "serve", `${fixtures}:slow`, "--limit", "1"], env(), "serving");
    children.push(worker);
    const slow = task("slow", (_seconds: number, _value: string) => "", { client });
    const run = await slow.delay(1.5, "once");
    await eventually(async () => (await client.taskRuns.getTaskRun({ id: run.id })).taskRun?.state === TaskRunState.RUNNING);

    // On another port, and on the same port, where it could not listen anyway.
    for (const secondPort of [await freePort(), port]) {
      const second = await runServerToExit(secondPort);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(join(home, "taskwire.db"));
      expect(second.stderr).toContain(`pid ${first.pid}`);
    }

    expect(await run.result(20_000)).toBe("once");
    const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
    expect(taskRun?.attempts).toBe(1);
    expect(taskRun?.redeliveries).toBe(0);
  });

  it("lets a new server start on the database of one killed with SIGKILL", async () => {
    const port = Number(new URL(url).port);
    await killHard(await startServer(port));
    const next = await startServer(port);
    expect(next.exitCode).toBeNull();
    const echo = task("echo", (_value: string) => "", { client });
    const run = await echo.delay("after the crash");
    expect((await client.taskRuns.getTaskRun({ id: run.id })).taskRun?.state).toBe(TaskRunState.SCHEDULED);
  });
});
