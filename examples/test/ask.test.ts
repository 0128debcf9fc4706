import { execFile, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createTaskwireClient, task, type TaskwireClient } from "taskwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, type LaunchedExample, launchExample } from "./launch-example.js";
import { rpcPathsIn, writeRpcPathsHook } from "./rpc-paths-hook.js";

// examples/ask as a user runs it: `npm run example:ask` (examples/dist/ask/main.js) starts a
// taskwire server, the Python worker that answers from taskwire's docs (BM25, rank-bm25 from
// PyPI) and the Fastify app, as real processes. Needs `npx tsc -b` and sdk-python/.venv.

const root = fileURLToPath(new URL("../..", import.meta.url));
const python = `${root}sdk-python/.venv/bin/python`;
const execFileAsync = promisify(execFile);

let example: LaunchedExample;
let client: TaskwireClient;

beforeAll(async () => {
  // `npm test` installs the example's requirements into the venv; a venv made before they
  // existed gets them here.
  if (spawnSync(python, ["-c", "import rank_bm25"]).status !== 0) {
    const pip = spawnSync(python, ["-m", "pip", "install", "--quiet", "-r", `${root}examples/ask/requirements.txt`], { encoding: "utf8" });
    if (pip.status !== 0) throw new Error(`could not install examples/ask/requirements.txt:\n${pip.stderr}`);
  }
  example = await launchExample("ask");
  client = createTaskwireClient({ apiUrl: example.taskwireUrl, apiKey: "" });
}, 180_000);

afterAll(async () => {
  client?.close();
  await example?.cleanUp();
});

async function ask(question: string) {
  const response = await fetch(`${example.appUrl}/question`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: question,
  });
  return { response, body: (await response.json()) as { id: string } };
}

/** GET /answer/<id> until it is not 202, as the README's client does. */
async function fetchAnswer(location: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${example.appUrl}${location}`);
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 202) return { status: response.status, body };
    expect(["SCHEDULED", "PENDING", "RUNNING"]).toContain(body.state);
    if (Date.now() > deadline) throw new Error(`${location} is still ${body.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once `condition` holds; checks every 10 ms, for at most 20 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not so after 20 s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the ask example", () => {
  it("POST /question answers 202 with a Location; GET /answer/<id> gives the answer from the docs", async () => {
    const { response, body } = await ask("How do I cancel a run?");

    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toBe(`/answer/${body.id}`);
    const { status, body: answer } = await fetchAnswer(`/answer/${body.id}`);
    expect(status).toBe(200);
    expect(answer).toMatchObject({ id: body.id, state: "COMPLETED", question: "How do I cancel a run?" });
    expect(answer.source).toMatch(/^(README\.md|docs\/\S+\.md) › .*cancel/i);
    expect(String(answer.answer)).toMatch(/cancel/i);
    // "See also" names two other sections: neither the answer's own nor one twice.
    const seeAlso = answer.seeAlso as string[];
    expect(seeAlso).toHaveLength(2);
    expect(new Set([answer.source, ...seeAlso]).size).toBe(3);
  });

  it("a run not finished yet is 202 with its state", async () => {
    // Scheduled a minute ahead, so it is surely not finished when asked about.
    const answerQuestion = task("answerQuestion", (question: string) => question, { client });
    const later = await answerQuestion.applyAsync(["How do retries work?"], { delaySeconds: 60 });

    const response = await fetch(`${example.appUrl}/answer/${later.id}`);

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ id: later.id, state: "SCHEDULED" });
    await later.cancel();
  });

  it("a question nothing in the docs answers is a 500 with the task's error", async () => {
    const { body } = await ask("xyzzy plugh");

    const { status, body: failed } = await fetchAnswer(`/answer/${body.id}`);

    expect(status).toBe(500);
    expect(failed).toEqual({
      id: body.id,
      state: "FAILED",
      error: { type: "LookupError", message: "nothing in the docs matches 'xyzzy plugh'; try other words" },
    });
  });

  it("the id of another task's run is 404, like an unknown id", async () => {
    const other = task("chargeCreditCard", (amount: number) => amount, { client });
    const run = await other.delay(42);

    expect((await fetch(`${example.appUrl}/answer/${run.id}`)).status).toBe(404);
    expect((await fetch(`${example.appUrl}/answer/00000000-0000-7000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${example.appUrl}/answer/nope`)).status).toBe(404);
  });

  it("an empty question is 400", async () => {
    const { response } = await ask("  ");
    expect(response.status).toBe(400);
  });

  it("ask.ts waits on the run's future and prints the answer", async () => {
    const { stdout } = await execFileAsync(process.execPath, [`${root}examples/dist/ask/ask.js`, "How do I cancel a run?"], {
      env: { ...process.env, TASKWIRE_HOME: example.home, TASKWIRE_API_URL: example.taskwireUrl },
      timeout: 30_000,
    });

    expect(stdout).toMatch(/cancel/i);
    expect(stdout).toMatch(/\n— (README\.md|docs\/\S+\.md) › /);
  });

  it("ask.ts does not poll: while the worker is held, it makes no call but the one watch", async () => {
    const worker = example.pids.get("worker-python") ?? 0;
    const hook = writeRpcPathsHook(example.home);
    // The worker is stopped (SIGSTOP) so that the run cannot finish while ask.ts waits on it.
    process.kill(worker, "SIGSTOP");
    let stderr = "";
    try {
      const cli = spawn(process.execPath, ["--import", hook, `${root}examples/dist/ask/ask.js`, "How do I cancel a run?"], {
        env: { ...process.env, TASKWIRE_HOME: example.home, TASKWIRE_API_URL: example.taskwireUrl },
      });
      let stdout = "";
      cli.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
      cli.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => cli.once("exit", resolve));
      // Its second call is the first of its waiting, whatever way it waits.
      await until(() => rpcPathsIn(stderr).length >= 2);
      // The CLI is waiting now. A client that polls asks again within a second or two (the
      // README's GET loop does, at Retry-After: 1); this one must make no call in that time.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const whileWaiting = rpcPathsIn(stderr);
      process.kill(worker, "SIGCONT");

      expect(await exited).toBe(0);
      expect(whileWaiting).toEqual(["/taskwire.v1.TaskRunService/ScheduleTaskRunStream", "/taskwire.v1.TaskRunService/WatchTaskRuns"]);
      expect(rpcPathsIn(stderr)).toEqual(whileWaiting);
      expect(stdout).toMatch(/\n— (README\.md|docs\/\S+\.md) › /);
    } finally {
      process.kill(worker, "SIGCONT");
    }
  });

  it("Ctrl-C stops every process", async () => {
    expect([...example.pids.keys()]).toEqual(["taskwire", "worker-python", "app"]);
    expect(await example.interrupt()).toBe(0);
    for (const [name, pid] of example.pids) expect(isAlive(pid), `${name} (pid ${pid}) is still alive`).toBe(false);
  });
});
