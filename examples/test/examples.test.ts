import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startProcess, stopProcess } from "../../server/src/bench/processes.js";

// The README's walkthrough, run as a user runs it: `npx tsx <file>` against a real server.
const examples = fileURLToPath(new URL("..", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
const cli = fileURLToPath(new URL("../../server/dist/cli/main.js", import.meta.url));

let home: string;
let url: string;
let client: TaskwireClient;
let server: ChildProcess;
const workers: ChildProcess[] = [];

const env = (apiUrl = url) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  return { ...clean, TASKWIRE_HOME: home, TASKWIRE_API_URL: apiUrl };
};

function runExample(args: string[], apiUrl = url) {
  return spawnSync(tsx, args, { cwd: examples, env: env(apiUrl), encoding: "utf8", timeout: 30_000 });
}

/** Starts `npx tsx <args>` and collects its output; resolves when it exits. */
function startExample(args: string[]) {
  const child = spawn(tsx, args, { cwd: examples, env: env(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, exited, output: () => output };
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-examples-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = await startProcess([cli, "server", "start", "--port", String(port)], { TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "warn" }, "listening on");
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

afterAll(async () => {
  client.close();
  await Promise.all(workers.map(stopProcess));
  await stopProcess(server);
  rmSync(home, { recursive: true, force: true });
});

async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(tsx, ["task_worker.ts"], { cwd: examples, env: env(), stdio: ["ignore", "pipe", "pipe"] });
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("serving")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`task_worker.ts exited with ${code}: ${output}`)));
  });
  return child;
}

describe("the README walkthrough", () => {
  it("greeter.ts runs in the foreground and is recorded on the server", async () => {
    const result = runExample(["greeter.ts"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("Hello, Marvin!\nHello, Arthur!\n");
    expect(result.stderr).not.toMatch(/not recorded/);
    const { taskRuns } = await client.taskRuns.listTaskRuns({ taskKeys: ["greet"] });
    expect(taskRuns.map((run) => TaskRunState[run.state])).toEqual(["COMPLETED", "COMPLETED"]);
    const logs = await client.taskRuns.listTaskRunLogs({ runId: taskRuns[0].id });
    expect(logs.lines.map((line) => line.message)).toEqual(["Hello, Arthur!"]);
  });

  it("greeter.ts still works with no server, and says so once", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = runExample(["greeter.ts"], closed);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("Hello, Marvin!\nHello, Arthur!\n");
    expect(result.stderr.match(/was not recorded: no taskwire server is reachable/g)).toHaveLength(1);
  });

  it("runs delayed while no worker is up are executed when one starts", async () => {
    const scheduler = startExample(["task_scheduler.ts", "Zaphod"]);
    // The run is durable and waits; only then does a worker start.
    const { taskRuns } = await (async () => {
      for (;;) {
        const list = await client.taskRuns.listTaskRuns({ taskKeys: ["myBackgroundTask"] });
        if (list.taskRuns.length > 0) return list;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    expect(TaskRunState[taskRuns[0].state]).toBe("SCHEDULED");
    await spawnWorker();
    expect(await scheduler.exited).toBe(0);
    expect(scheduler.output()).toMatch(new RegExp(`scheduled task run ${taskRuns[0].id}`));
    expect(scheduler.output()).toMatch(/: Hello, Zaphod! \(worker /);
  });

  it("task_scheduler.ts prints the run id and the result a worker returned", () => {
    const result = runExample(["task_scheduler.ts"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^scheduled task run [0-9a-f-]{36}\ntask run [0-9a-f-]{36}: Hello, Agrajag! \(worker /);
  });

  it("spreads three runs across two workers", async () => {
    await spawnWorker();
    expect(workers).toHaveLength(2);
    const result = runExample(["task_scheduler.ts", "Ford", "Prefect", "Slartibartfast"]);
    expect(result.status).toBe(0);
    for (const name of ["Ford", "Prefect", "Slartibartfast"]) expect(result.stdout).toContain(`Hello, ${name}!`);
    const workerIds = new Set([...result.stdout.matchAll(/\(worker ([^)]+)\)/g)].map((m) => m[1]));
    expect(workerIds.size).toBe(2);
  });

  it("taskwire task-run ls and inspect show the runs", () => {
    const ls = spawnSync(process.execPath, [cli, "task-run", "ls", "--task", "myBackgroundTask"], { env: env(), encoding: "utf8" });
    expect(ls.status).toBe(0);
    expect(ls.stdout).toMatch(/COMPLETED/);
    const id = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(ls.stdout)?.[0] ?? "";
    const inspect = spawnSync(process.execPath, [cli, "task-run", "inspect", id], { env: env(), encoding: "utf8" });
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toContain(id);
    expect(inspect.stdout).toMatch(/^ {2}state\s+COMPLETED$/m);
    expect(inspect.stdout).toMatch(/Hello, /);
    const json = spawnSync(process.execPath, [cli, "task-run", "inspect", id, "--json"], { env: env(), encoding: "utf8" });
    expect((JSON.parse(json.stdout) as { state: string }).state).toBe("TASK_RUN_STATE_COMPLETED");
  });
});
