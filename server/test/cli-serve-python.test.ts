import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { task } from "taskwire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliPath, runTaskwire } from "./support/taskwire-cli.js";
import { type TestServer, eventually, startTestServer } from "./support/test-server.js";

// `taskwire task serve tasks.py:fn` hands the file to the Python SDK's worker. Needs the
// Python venv at sdk-python/.venv with the SDK installed (as `npm test` makes it).

const python = fileURLToPath(new URL("../../sdk-python/.venv/bin/python", import.meta.url));
// The worker's grace for runs in flight after a signal (serve()'s default, 10 s).
const GRACE_MS = 10_000;
const NAP_SECONDS = 2;
// How long the worker's drain waits for the server's acks of released runs, then for the
// server's end of the stream (ACK_WAIT_S in sdk-python/taskwire/worker.py, 5 s each).
const ACK_WAIT_MS = 5_000;

let test: TestServer;
let dir: string;
let child: ChildProcess | undefined;
/** The Python worker's pid once a test read it: ended after a failed test too. */
let pythonPid: number | undefined;

beforeEach(async () => {
  if (!existsSync(python)) throw new Error(`the Python SDK's venv is missing at ${python}: create it with \`python3 -m venv sdk-python/.venv && sdk-python/.venv/bin/pip install -e './sdk-python[dev]'\``);
  test = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), "taskwire-serve-python-"));
});

afterEach(async () => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
  child = undefined;
  if (pythonPid !== undefined) {
    try {
      process.kill(pythonPid, "SIGKILL");
    } catch {
      // Gone already, as it should be.
    }
  }
  pythonPid = undefined;
  rmSync(dir, { recursive: true, force: true });
  await test.stop();
});

/** `taskwire task serve tasks.py:nap` as a terminal's foreground job: a process group of its own. */
function serveNap(): { exited: Promise<number | null>; output: () => string; started: (text: string) => Promise<void> } {
  writeFileSync(
    join(dir, "tasks.py"),
    ["import time", "from taskwire import task", "", "@task", "def nap(seconds: float) -> str:", '    print("napping", flush=True)', "    time.sleep(seconds)", '    return "rested"', ""].join("\n"),
  );
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const env = { ...inherited, TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url, TASKWIRE_PYTHON: python, PYTHONUNBUFFERED: "1" };
  const spawned = spawn(process.execPath, [cliPath, "task", "serve", "tasks.py:nap"], { cwd: dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child = spawned;
  let output = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters.filter((w) => output.includes(w.text))) waiter.resolve();
  };
  spawned.stdout.on("data", onData);
  spawned.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => spawned.once("exit", (code) => resolve(code)));
  const started = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (output.includes(text)) return resolve();
      waiters.push({ text, resolve });
      void exited.then((code) => reject(new Error(`the worker exited ${code} before printing "${text}":\n${output}`)));
    });
  return { exited, output: () => output, started };
}

describe("taskwire task serve tasks.py:fn", () => {
  it("on Ctrl-C (SIGINT to its process group) lets the run in flight finish: the Python worker gets one signal, not two", async () => {
    const worker = serveNap();
    await worker.started("serving nap");
    const nap = task(function nap(seconds: number) {
      return `${seconds}`;
    }, { client: test.client });
    const run = await nap.delay(NAP_SECONDS);
    await worker.started("napping");

    // A terminal delivers Ctrl-C to every process of the foreground job: the CLI and the
    // Python worker it started. A second signal would make the worker hand its runs back.
    process.kill(-(child?.pid ?? 0), "SIGINT");

    // The nap's end plus the grace it may use bounds how long the run takes to finish.
    const finished = await run.wait(NAP_SECONDS * 1000 + GRACE_MS);
    expect(finished.state).toBe("COMPLETED");
    expect(finished.attempts).toBe(1);
    expect(await run.result()).toBe("rested");
    expect(await worker.exited).toBe(0);
    expect(worker.output().match(/received SIGINT/g)).toHaveLength(1);
  }, 30_000);
});

describe("taskwire task serve tasks.py:fn when its terminal closes", () => {
  it("SIGHUP to its process group ends the Python worker too: it does not keep serving on its own", async () => {
    const worker = serveNap();
    await worker.started("serving nap");
    pythonPid = Number(/\(pid (\d+)\)/.exec(await workerRow())?.[1]);
    expect(pythonPid).toBeGreaterThan(0);
    process.kill(-(child?.pid ?? 0), "SIGHUP");
    await worker.exited;
    // The worker's process is gone once its connection is: the server lists no worker.
    await eventually(async () => (await workerRow()) === "" || undefined, 10_000);
    expect(() => process.kill(pythonPid, 0)).toThrow();
  }, 30_000);
});

describe("taskwire task serve tasks.py:fn when the CLI is killed with SIGKILL", () => {
  it("the Python worker drains as on SIGTERM (its run in flight finishes) and exits: it is not left serving as an orphan", async () => {
    const worker = serveNap();
    await worker.started("serving nap");
    pythonPid = Number(/\(pid (\d+)\)/.exec(await workerRow())?.[1]);
    expect(pythonPid).toBeGreaterThan(0);
    const nap = task(function nap(seconds: number) {
      return `${seconds}`;
    }, { client: test.client });
    const run = await nap.delay(NAP_SECONDS);
    await worker.started("napping");

    // SIGKILL cannot be caught, so the CLI passes nothing on: only the end of the
    // worker's stdin, a pipe from the CLI, tells it.
    process.kill(child?.pid ?? 0, "SIGKILL");
    await worker.exited;

    // Draining: the nap finishes within the grace; then the worker waits at most
    // ACK_WAIT_MS for the server's acks and as long again for the stream's end.
    const drained = GRACE_MS + 2 * ACK_WAIT_MS;
    const finished = await run.wait(drained);
    expect(finished.state).toBe("COMPLETED");
    expect(finished.attempts).toBe(1);
    await eventually(() => !running(pythonPid ?? 0), drained);
    await eventually(async () => (await workerRow()) === "" || undefined, drained);
    expect(worker.output()).toContain("stdin closed");
  }, 60_000);
});

/**
 * Whether the process runs. An orphan is reaped by whoever adopted it, maybe not at once
 * (a container's init may never reap): a zombie has exited, though kill(pid, 0) finds it.
 */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": the state follows the command's closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The `taskwire worker ls` line of the one worker connected, or "" when none is. */
async function workerRow(): Promise<string> {
  const listed = await runTaskwire(["worker", "ls"], { TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url });
  return listed.stdout.split("\n").find((line) => line.includes("python")) ?? "";
}

describe("taskwire task serve tasks.py:fn with a Python that lacks the SDK", () => {
  it("says how to install it or pick another interpreter, instead of Python's bare ModuleNotFoundError", async () => {
    const venv = join(dir, "bare-venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    const bare = join(venv, "bin/python");
    const result = await runTaskwire(["task", "serve", "tasks.py:nap"], { TASKWIRE_HOME: test.home, TASKWIRE_API_URL: test.server.url, TASKWIRE_PYTHON: bare });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `taskwire: ${bare} has no taskwire module: Python entrypoints are served by the Python SDK. Install it for that interpreter ` +
        "(pip install ./sdk-python, distribution taskwire-sdk), or set TASKWIRE_PYTHON to the interpreter of the venv that has it\n",
    );
  });
});
