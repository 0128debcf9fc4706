import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, createWorker, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually } from "./support/test-server.js";

// Real processes killed with SIGKILL: what `delay()` acknowledged must still complete.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));

let home: string;
let port: number;
let url: string;
let client: TaskwireClient;
const children: ChildProcess[] = [];

const env = () => ({ TASKWIRE_HOME: home, TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn" });

async function startServer() {
  const child = await startProcess([cli, "server", "start", "--port", String(port)], env(), "listening on");
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
  home = mkdtempSync(join(tmpdir(), "taskwire-crash-"));
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

afterEach(async () => {
  client.close();
  await Promise.all(children.splice(0).map((child) => (child.exitCode === null && child.signalCode === null ? killHard(child) : undefined)));
  rmSync(home, { recursive: true, force: true });
});

describe("nothing acknowledged is lost", () => {
  it("redelivers the run of a worker killed with SIGKILL to another worker", async () => {
    await startServer();
    const first = await startWorker("slow");
    const slow = task("slow", (_seconds: number, _value: string) => "", { client });
    const run = await slow.delay(1, "survived");
    await eventually(async () => (await stateOf(run.id)) === "RUNNING");
    const firstWorker = (await client.taskRuns.getTaskRun({ id: run.id })).taskRun?.workerId;
    await killHard(first);

    await startWorker("slow");
    expect(await run.result(20_000)).toBe("survived");
    const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
    expect(taskRun?.redeliveries).toBe(1);
    expect(taskRun?.attempts).toBe(2);
    expect(taskRun?.workerId).not.toBe(firstWorker);
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
    await startServer();
    // The worker process reconnects on its own; a worker for "held" starts now.
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
