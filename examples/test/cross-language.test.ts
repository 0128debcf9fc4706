import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTaskwireClient, setDefaultClient, task, TaskRunError, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../server/src/bench/processes.js";

// One protocol, three languages: real processes against a real server. A TypeScript,
// Python or Go worker runs what a caller in another language scheduled by task key.
// Needs: `npx tsc -b` (the server build), the Python venv at sdk-python/.venv with the
// SDK installed, and `go` on PATH (the Go worker is built here with `go build`).

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "server/dist/cli/main.js");
const python = join(root, "sdk-python/.venv/bin/python");
const goWorkerDir = join(root, "examples/go-worker");
const pythonTasks = "examples/polyglot/tasks.py";
const tsTasks = "examples/polyglot/tasks.ts";

const execFileAsync = promisify(execFile);

let home: string;
let url: string;
let client: TaskwireClient;
const children: ChildProcess[] = [];
let goWorkerBinary: Promise<string>;

interface Started {
  child: ChildProcess;
  /** The worker id from its "worker <id> serving" line, when it prints one. */
  workerId: string;
  output(): string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // A developer's own TASKWIRE_* settings must not leak into the processes under test.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  return { ...clean, TASKWIRE_HOME: home, TASKWIRE_API_URL: url, PYTHONUNBUFFERED: "1", ...extra };
}

/** Starts a process and resolves once its output (stdout or stderr) contains `ready`. */
function start(command: string, args: string[], ready: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const child = spawn(command, args, { cwd: root, env: childEnv(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(" ")} printed no "${ready}" in 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes(ready)) {
        clearTimeout(timer);
        const workerId = /worker (\S+) serving/.exec(output)?.[1] ?? "";
        resolve({ child, workerId, output: () => output });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(" ")} exited (${code ?? signal}) before "${ready}":\n${output}`));
    });
  });
}

function requirePython(): void {
  if (!existsSync(python)) {
    throw new Error(
      `the Python SDK's venv is missing at ${python}: create it with ` +
        "`python3 -m venv sdk-python/.venv && sdk-python/.venv/bin/pip install -e './sdk-python[dev]'`",
    );
  }
}

function startPythonWorker(...tasks: string[]): Promise<Started> {
  requirePython();
  const entrypoints = tasks.map((name) => `${pythonTasks}:${name}`);
  return start(python, ["-m", "taskwire", "serve", ...entrypoints, "--limit", "2"], "serving");
}

function startTsWorker(...exports: string[]): Promise<Started> {
  const specs = exports.map((name) => `${tsTasks}:${name}`);
  return start(process.execPath, [cli, "task", "serve", ...specs, "--limit", "2"], "serving");
}

async function buildGoWorker(): Promise<string> {
  const output = join(home, "go-worker");
  try {
    await execFileAsync("go", ["build", "-o", output, "."], { cwd: goWorkerDir, timeout: 170_000 });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    throw new Error(
      code === "ENOENT" ? "`go` is not on PATH: the Go worker test needs a Go toolchain" : `go build failed:\n${stderr ?? error}`,
    );
  }
  return output;
}

async function getRun(id: string) {
  const { taskRun } = await client.taskRuns.getTaskRun({ id });
  if (!taskRun) throw new Error(`no task run ${id}`);
  return taskRun;
}

/** Polls until the run is RUNNING, and returns it (the server has no "started" event to wait on). */
async function untilRunning(id: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(id);
    if (run.state === TaskRunState.RUNNING) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} is ${TaskRunState[run.state]}, not RUNNING, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`the server build is missing at ${cli}: run \`npx tsc -b\` first`);
  home = mkdtempSync(join(tmpdir(), "taskwire-cross-language-"));
  // Started now, awaited by the Go test: a cold `go build` takes about 50 s on 2 cores.
  goWorkerBinary = buildGoWorker();
  goWorkerBinary.catch(() => {});
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  await start(process.execPath, [cli, "server", "start", "--port", String(port)], "listening on", { TASKWIRE_LOG_LEVEL: "warn" });
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
  setDefaultClient(client);
});

afterAll(async () => {
  client?.close();
  // The build may still run when an earlier failure ends the file; it must not outlive it.
  await goWorkerBinary?.catch(() => {});
  await Promise.all(children.map(killHard));
  if (home) rmSync(home, { recursive: true, force: true });
}, 180_000);

describe("cross-language task runs", () => {
  it("TypeScript schedules, a Python worker runs it, TypeScript gets the result", async () => {
    const worker = await startPythonWorker("word_frequencies", "validate_address");
    const wordFrequencies = task("word_frequencies", (text: string) => ({}) as Record<string, number>);

    const run = await wordFrequencies.delay("The cat and the hat");

    expect(await run.result(20_000)).toEqual({ the: 2, cat: 1, and: 1, hat: 1 });
    expect((await run.wait()).workerId).toBe(worker.workerId);
  });

  it("a Python task's ValueError reaches TypeScript as a failed run", async () => {
    const validateAddress = task("validate_address", (address: string) => address);

    const run = await validateAddress.delay("42 Nowhere Street");

    const error = await run.result(20_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskRunError);
    expect((error as TaskRunError).remoteType).toBe("ValueError");
    expect((error as TaskRunError).remoteMessage).toBe("bad address");
    expect((error as TaskRunError).remoteStack).toContain("tasks.py");
    expect((await run.wait()).state).toBe("FAILED");
  });

  it("Python schedules, a TypeScript worker runs it, Python gets the result", async () => {
    requirePython();
    const worker = await startTsWorker("greet");
    // The Python caller knows the task by its key only; the stub's body never runs.
    const script = [
      "import json, sys",
      "from taskwire import task",
      "@task(name='greet')",
      "def greet(name: str) -> str:",
      "    raise NotImplementedError('the TypeScript worker runs this')",
      "future = greet.delay(sys.argv[1])",
      "print(json.dumps({'id': future.task_run_id, 'result': future.result(timeout=20)}))",
    ].join("\n");

    const { stdout } = await execFileAsync(python, ["-c", script, "Zaphod"], { cwd: root, env: childEnv(), timeout: 30_000 });

    const printed = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
    expect(printed.result).toBe("Hello, Zaphod!");
    expect((await getRun(printed.id)).workerId).toBe(worker.workerId);
  });

  it("TypeScript schedules, the Go worker runs it", { timeout: 180_000 }, async () => {
    const binary = await goWorkerBinary;
    await start(binary, ["--limit", "2"], "word_count (limit 2)");
    const wordCount = task("word_count", (text: string) => 0 as number);
    const wordCountOfAnything = task("word_count", (text: unknown) => 0 as number);

    const runs = await Promise.all([wordCount.delay("the quick brown fox jumps"), wordCount.delay("  naïve   café ")]);
    const refused = await wordCountOfAnything.delay(42);

    expect(await Promise.all(runs.map((run) => run.result(20_000)))).toEqual([5, 2]);
    expect((await runs[0].wait()).workerId).toMatch(/^go-/);
    const error = await refused.result(20_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskRunError);
    expect((error as TaskRunError).remoteType).toBe("ParameterError");
    expect((error as TaskRunError).remoteMessage).toBe('argument "text" must be a string, got 42');
  });

  it("a run of a Python worker killed with SIGKILL is redelivered to a TypeScript worker", async () => {
    const doomed = await startPythonWorker("resize_image");
    const resizeImage = task("resize_image", (name: string) => name);

    const run = await resizeImage.delay("cat.png");
    const running = await untilRunning(run.id);
    expect(running.workerId).toBe(doomed.workerId);
    // Started only now, so the first attempt could only go to the Python worker.
    const rescuer = await startTsWorker("resizeImage");
    await killHard(doomed.child);

    expect(await run.result(20_000)).toBe("cat.png resized by TypeScript");
    const finished = await getRun(run.id);
    expect(finished.redeliveries).toBeGreaterThanOrEqual(1);
    expect(finished.attempts).toBe(2);
    expect(finished.workerId).toBe(rescuer.workerId);
    expect(finished.history.map((h) => h.message).join("\n")).toContain(`worker ${doomed.workerId} disconnected`);
  });
});
