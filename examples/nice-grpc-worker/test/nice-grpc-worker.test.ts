import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, type TaskwireClient, task } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The compiled server CLI and worker, as a user runs them; `npm test` builds both (tsc -b).
const serverCli = fileURLToPath(new URL("../../../server/dist/cli/main.js", import.meta.url));
const workerMain = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a process and resolves once it printed `ready` (rejects if it exits first). */
function startProcess(args: string[], env: NodeJS.ProcessEnv, ready: string): Promise<Started> {
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${ready}" within 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exited });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${ready}":\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The worker's task, as a caller in TypeScript sees it: only the key and signature matter here. */
function reverseTextTask(client: TaskwireClient) {
  return task("reverse_text", (text: string, _seconds?: number): string => text, { client });
}

describe("nice-grpc worker", () => {
  let home: string;
  let server: Started;
  let worker: Started;
  let client: TaskwireClient;
  let reverseText: ReturnType<typeof reverseTextTask>;
  let env: NodeJS.ProcessEnv;
  let port: number;

  beforeAll(async () => {
    for (const file of [serverCli, workerMain]) {
      if (!existsSync(file)) throw new Error(`${file} does not exist: build first with \`npx tsc -b\``);
    }
    home = mkdtempSync(join(tmpdir(), "taskwire-nice-grpc-"));
    port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    // Only this test's settings: the machine's TASKWIRE_* must not leak in.
    env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
    env = { ...env, TASKWIRE_HOME: home, TASKWIRE_API_URL: apiUrl };
    server = await startProcess([serverCli, "server", "start", "--port", String(port)], env, "listening on");
    worker = await startProcess([workerMain, "--limit", "2", "--grace-seconds", "1"], env, "serving reverse_text");
    client = createTaskwireClient({ apiUrl, apiKey: "" });
    reverseText = reverseTextTask(client);
  });

  afterAll(async () => {
    client?.close();
    for (const started of [worker, server]) {
      if (started && started.child.exitCode === null) {
        started.child.kill("SIGTERM");
        await started.exited;
      }
    }
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("runs reverse_text delayed from the TypeScript SDK", async () => {
    const run = await reverseText.delay("hello, wörld 👍🏽");
    expect(await run.result(10_000)).toBe("👍🏽 dlröw ,olleh");
    const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
    // The run went through this worker process, not some other one.
    expect(taskRun?.workerId).toContain(`-${worker.child.pid}-`);
    expect(taskRun?.attempts).toBe(1);
  });

  it("stops a run when it is cancelled, and keeps serving", async () => {
    const run = await reverseText.delay("never", 30);
    await waitForState(run.id, TaskRunState.RUNNING);
    await run.cancel();
    const snapshot = await run.wait(5_000);
    expect(snapshot.state).toBe("CANCELLED");
    expect(await (await reverseText.delay("again")).result(10_000)).toBe("niaga");
  });

  it("fails a run with bad arguments without using its retries", async () => {
    const run = await reverseText.applyAsync([42 as unknown as string], { retries: 2 });
    const snapshot = await run.wait(10_000);
    expect(snapshot.state).toBe("FAILED");
    const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
    expect(taskRun?.error?.type).toBe("TypeError");
    expect(taskRun?.error?.message).toContain("text must be a string");
    expect(taskRun?.retriesUsed).toBe(0);
  });

  it("reconnects by itself when the server restarts", async () => {
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    server = await startProcess([serverCli, "server", "start", "--port", String(port)], env, "listening on");
    expect(await (await reverseText.delay("back")).result(20_000)).toBe("kcab");
    expect(worker.child.exitCode).toBeNull();
  });

  it("on SIGTERM finishes what it can, releases the rest and exits 0", async () => {
    const quick = await reverseText.delay("quick", 0.3);
    const slow = await reverseText.delay("slow", 30);
    await waitForState(quick.id, TaskRunState.RUNNING);
    await waitForState(slow.id, TaskRunState.RUNNING);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect(await quick.result(1_000)).toBe("kciuq");
    // Released, not lost: back in the queue without counting a redelivery.
    const { taskRun } = await client.taskRuns.getTaskRun({ id: slow.id });
    expect(taskRun?.state).toBe(TaskRunState.SCHEDULED);
    expect(taskRun?.redeliveries).toBe(0);
    expect(taskRun?.history.at(-1)?.message).toContain("released");
    await client.taskRuns.cancelTaskRun({ id: slow.id });
  });

  async function waitForState(id: string, state: TaskRunState): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { taskRun } = await client.taskRuns.getTaskRun({ id });
      if (taskRun?.state === state) return;
      if (Date.now() > deadline) throw new Error(`run ${id} is ${TaskRunState[taskRun?.state ?? 0]}, not ${TaskRunState[state]}, after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
});
