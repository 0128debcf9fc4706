import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { createTaskwireClient, createWorker, currentRun, exponentialBackoff, NonRetryableError, task, TaskRunError } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProcess } from "../src/bench/processes.js";
import { startRetention } from "../src/store/retention.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";

// The windows are sized from what the tests assert, not from an idle machine's speed (on
// a loaded 2-core machine a worker process took over a second to start its heartbeat
// thread, and a 600 ms ack window re-queued the assignments of a busy worker 3 times):
// - the lease is what the fault tests measure: a stuck worker loses its runs after it, a
//   task blocking the event loop for twice as long keeps its run. 3 s keeps them short.
// - heartbeats come ten times per lease, so a few late ones on a loaded machine lose nothing.
// - the ack window is as long as the lease: no test but one asserts it, and that one uses
//   a worker that never acknowledges; a Started delayed by load must not count as lost.
const LEASE_MS = 3_000;
const HEARTBEAT_INTERVAL_MS = LEASE_MS / 10;
const ACK_TIMEOUT_MS = LEASE_MS;
let t: TestServer;
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));
const jsFixture = fileURLToPath(new URL("./fixtures/echo-js.mjs", import.meta.url));

beforeAll(async () => {
  t = await startTestServer({
    leaseDurationMs: LEASE_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    maxPayloadBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await t.stop();
});

const stateOf = async (id: string) => TaskRunState[(await t.client.taskRuns.getTaskRun({ id })).taskRun?.state ?? 0];

/** A task that waits for its AbortSignal, as a well-behaved long task does. */
function waitForAbort(): Promise<never> {
  const signal = currentRun()?.signal;
  return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
}

function serveNow(...tasks: Parameters<typeof createWorker>[0]["tasks"]) {
  const worker = createWorker({ tasks, client: t.client, log: () => {} });
  void worker.start();
  return worker;
}

describe("task options", () => {
  it("times out an attempt: the task's signal fires, the attempt fails TimeoutError, retries apply", async () => {
    const hangs = task(function hangs() {
      return waitForAbort();
    }, { client: t.client, timeoutSeconds: 0.3, retries: 1 });
    const worker = serveNow(hangs);
    try {
      const run = await hangs.delay();
      const error = (await run.result(10_000).catch((e: unknown) => e)) as TaskRunError;
      expect(error).toBeInstanceOf(TaskRunError);
      expect(error.remoteType).toBe("TimeoutError");
      expect((await run.wait()).attempts).toBe(2);
    } finally {
      await worker.stop();
    }
  });

  it("cancels a running run: its AbortSignal fires and it ends CANCELLED", async () => {
    let sawAbort = false;
    const longTask = task(async function longTask() {
      try {
        return await waitForAbort();
      } finally {
        sawAbort = currentRun()?.signal.aborted ?? false;
      }
    }, { client: t.client });
    const worker = serveNow(longTask);
    try {
      const run = await longTask.delay();
      await eventually(async () => (await stateOf(run.id)) === "RUNNING");
      await run.cancel();
      // The task only ends when its signal fires: a cancel that did not reach it would
      // leave the run RUNNING, and result() would time out.
      const error = (await run.result(10_000).catch((e: unknown) => e)) as TaskRunError;
      expect(error.run.state).toBe("CANCELLED");
      expect(sawAbort).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it("does not start a run before its scheduled time", async () => {
    const stamp = task(function stamp() {
      return Date.now();
    }, { client: t.client });
    const worker = serveNow(stamp);
    try {
      const scheduledAt = Date.now() + 800;
      const run = await stamp.applyAsync([], { scheduledTime: new Date(scheduledAt) });
      expect(await run.result(10_000)).toBeGreaterThanOrEqual(scheduledAt);
      // Read from the server's history, not from when this process got around to looking.
      const { taskRun } = await t.client.taskRuns.getTaskRun({ id: run.id });
      const assigned = taskRun?.history.find((h) => h.state === TaskRunState.PENDING)?.time;
      expect(Number(assigned?.seconds) * 1000 + Math.floor((assigned?.nanos ?? 0) / 1e6)).toBeGreaterThanOrEqual(scheduledAt);
    } finally {
      await worker.stop();
    }
  });

  it("runs higher priority first within a task key", async () => {
    const order: string[] = [];
    const ranked = task(function ranked(name: string) {
      order.push(name);
    }, { client: t.client });
    const runs = [
      await ranked.applyAsync(["low-1"], { priority: 0 }),
      await ranked.applyAsync(["low-2"], { priority: 0 }),
      await ranked.applyAsync(["high"], { priority: 10 }),
    ];
    const worker = createWorker({ tasks: [ranked], client: t.client, limit: 1, log: () => {} });
    void worker.start();
    try {
      await Promise.all(runs.map((run) => run.result(5_000)));
      expect(order).toEqual(["high", "low-1", "low-2"]);
    } finally {
      await worker.stop();
    }
  });

  it("waits retryDelaySeconds between attempts, and exponentialBackoff doubles", async () => {
    expect(exponentialBackoff(10, 4)).toEqual([10, 20, 40, 80]);
    const attempts: number[] = [];
    const flaky = task(function flakyWithDelay() {
      attempts.push(Date.now());
      if (attempts.length < 2) throw new Error("not yet");
      return "ok";
    }, { client: t.client, retries: 1, retryDelaySeconds: 0.5 });
    const worker = serveNow(flaky);
    try {
      const run = await flaky.delay();
      expect(await run.result(5_000)).toBe("ok");
      expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(450);
    } finally {
      await worker.stop();
    }
  });

  it("fails a run whose result is over the payload limit, with that reason", async () => {
    const huge = task(function huge() {
      return "x".repeat(70_000);
    }, { client: t.client });
    const worker = serveNow(huge);
    try {
      const run = await huge.delay();
      const error = (await run.result(5_000).catch((e: unknown) => e)) as TaskRunError;
      expect(error.remoteType).toBe("PayloadTooLarge");
      expect(error.remoteMessage).toMatch(/over the limit of 65536/);
    } finally {
      await worker.stop();
    }
  });
});

describe("errors that end a run at once", () => {
  it("does not retry a NonRetryableError, whatever retries are left", async () => {
    const strict = task(function strict() {
      throw new NonRetryableError("bad address");
    }, { client: t.client, retries: 3 });
    const worker = serveNow(strict);
    try {
      const run = await strict.delay();
      const error = (await run.result(5_000).catch((e: unknown) => e)) as TaskRunError;
      expect(error.remoteType).toBe("NonRetryableError");
      expect((await run.wait()).attempts).toBe(1);
    } finally {
      await worker.stop();
    }
  });

  it("fences off a worker that ignores a timeout: the attempt fails, its late result is refused", async () => {
    const { id } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "ignores_timeout", options: { timeoutSeconds: 0.2 } } });
    const worker = openRawWorker(t.server.url, { taskKeys: ["ignores_timeout"], limit: 1 });
    const assignment = await eventually(() => worker.assignments[0]);
    expect(assignment.timeoutMs).toBe(200);
    const ref = { runId: id, leaseToken: assignment.leaseToken };
    worker.send({ message: { case: "started", value: { runs: [ref] } } });
    await eventually(async () => (await stateOf(id)) === "FAILED");
    worker.send({ message: { case: "completed", value: { results: [{ ...ref, result: { contentType: "application/json", data: new TextEncoder().encode("1") } }] } } });
    const refusal = await eventually(() => worker.acks.find((a) => a.runId === id && !a.accepted));
    expect(refusal.reason).toMatch(/not leased to this worker/);
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.error?.type).toBe("TimeoutError");
    expect(TaskRunState[taskRun?.state ?? 0]).toBe("FAILED");
    await worker.kill();
  });
});

describe("delivery under faults", () => {
  it("takes the leases of a stuck worker (SIGSTOP) at their deadline and gives the run to another", async () => {
    const env = { TASKWIRE_API_URL: t.server.url, TASKWIRE_HOME: t.home };
    const stuck: ChildProcess = await startProcess([cli, "task", "serve", `${fixtures}:slow`], env, "serving");
    try {
      const slow = task("slow", async (_seconds: number, _value: string) => "from the second worker", { client: t.client });
      const run = await slow.delay(60, "from the stuck worker");
      await eventually(async () => (await stateOf(run.id)) === "RUNNING");
      stuck.kill("SIGSTOP");
      const second = serveNow(slow);
      try {
        expect(await run.result(10 * LEASE_MS)).toBe("from the second worker");
        const { taskRun } = await t.client.taskRuns.getTaskRun({ id: run.id });
        expect(taskRun?.redeliveries).toBe(1);
        expect(taskRun?.history.some((h) => /lease expired/.test(h.message))).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      stuck.kill("SIGKILL");
    }
  });

  it("keeps the lease of a task that blocks the event loop: heartbeats come from another thread", async () => {
    const env = { TASKWIRE_API_URL: t.server.url, TASKWIRE_HOME: t.home };
    const worker: ChildProcess = await startProcess([cli, "task", "serve", `${fixtures}:busy`], env, "serving");
    try {
      // Twice the lease duration of synchronous work: only heartbeats from elsewhere save it.
      const busy = task("busy", (_seconds: number) => true, { client: t.client });
      const run = await busy.delay((2 * LEASE_MS) / 1000);
      expect(await run.result(10 * LEASE_MS)).toBe(true);
      const { taskRun } = await t.client.taskRuns.getTaskRun({ id: run.id });
      expect(taskRun?.redeliveries).toBe(0);
      expect(taskRun?.attempts).toBe(1);
    } finally {
      worker.kill("SIGKILL");
    }
  });

  it("says in Welcome the windows it applies: heartbeat interval, lease, ack window", async () => {
    const worker = openRawWorker(t.server.url, { taskKeys: ["welcome_only"], limit: 1 });
    const welcome = await eventually(() => worker.received.find((m) => m.message.case === "welcome")?.message.value);
    expect(welcome).toMatchObject({ heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, leaseDurationMs: LEASE_MS, ackTimeoutMs: ACK_TIMEOUT_MS });
    await worker.close();
  });

  it("puts an assignment not acknowledged within the ack window back in the queue", async () => {
    const { id } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "never_acked" } });
    const worker = openRawWorker(t.server.url, { taskKeys: ["never_acked"], limit: 1 });
    await eventually(() => worker.assignments.length === 1);
    await eventually(() => worker.received.some((m) => m.message.case === "cancel"), 10 * ACK_TIMEOUT_MS);
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.history.some((h) => h.message.includes(`not acknowledged within ${ACK_TIMEOUT_MS} ms`))).toBe(true);
    expect(taskRun?.retriesUsed).toBe(0);
    await worker.kill();
  });

  it("gives a worker that missed its ack window no more work until it names that lease", async () => {
    const { id: missed } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "slow_to_ack" } });
    const worker = openRawWorker(t.server.url, { taskKeys: ["slow_to_ack"], limit: 2 });
    try {
      await eventually(() => worker.assignments.length === 1);
      await eventually(() => worker.received.some((m) => m.message.case === "cancel"), 5_000);
      // Its slots are free, yet the next runs go to another worker, and an empty heartbeat changes nothing.
      worker.send({ message: { case: "heartbeat", value: { runs: [] } } });
      const other = openRawWorker(t.server.url, { taskKeys: ["slow_to_ack"], limit: 10 });
      const { id: next } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "slow_to_ack" } });
      await eventually(() => other.assignments.some((a) => a.runId === next) && other.assignments.some((a) => a.runId === missed));
      await other.kill();
      expect(worker.assignments.length).toBe(1);
      // Started for the lease it missed (refused: stale) shows it reads its stream again.
      const [late] = worker.assignments;
      worker.send({ message: { case: "started", value: { runs: [{ runId: late.runId, leaseToken: late.leaseToken }] } } });
      await eventually(() => worker.assignments.length > 1, 5_000);
      expect(worker.acks.some((a) => a.runId === late.runId && !a.accepted)).toBe(true);
    } finally {
      await worker.kill();
    }
  });

  it("fails a run lost more than max_redeliveries times instead of looping", async () => {
    const { id } = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "poison", options: { maxRedeliveries: 2 } } });
    for (let i = 0; i < 3; i++) {
      const worker = openRawWorker(t.server.url, { taskKeys: ["poison"], limit: 1 });
      await eventually(() => worker.assignments.length === 1);
      await worker.kill();
    }
    await eventually(async () => (await stateOf(id)) === "FAILED");
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.error?.type).toBe("MaxRedeliveriesExceeded");
    expect(taskRun?.error?.message).toMatch(/lost 3 times \(max_redeliveries 2\)/);
  });

  it("deletes finished runs past their retention, and nothing else", async () => {
    const kept = await t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "retention_pending" } });
    const done = await t.client.taskRuns.recordTaskRun({ taskKey: "retention_done", state: TaskRunState.COMPLETED });
    const logger = pino({ level: "silent" });
    const retention = startRetention({ store: t.server.store, logger, retentionMs: 1_000, clock: () => Date.now() + 60_000 });
    expect(await retention.sweep()).toBeGreaterThanOrEqual(1);
    retention.stop();
    const error = await t.client.taskRuns.getTaskRun({ id: done.id }).catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.NotFound);
    expect(await stateOf(kept.id)).toBe("SCHEDULED");
  });
});

describe("API key", () => {
  it("refuses calls without the key, and accepts them with it", async () => {
    const secured = await import("../src/server.js").then(({ startServer }) =>
      startServer({ host: "127.0.0.1", port: 0, home: t.home + "-secured", apiKey: "s3cret", logLevel: "silent" }),
    );
    try {
      const anonymous = createTaskwireClient({ apiUrl: secured.url, apiKey: "" });
      const error = await anonymous.taskRuns.listTaskRuns({}).catch((e: unknown) => e);
      expect(ConnectError.from(error).code).toBe(Code.Unauthenticated);
      const wrong = createTaskwireClient({ apiUrl: secured.url, apiKey: "s3cres" });
      expect(ConnectError.from(await wrong.taskRuns.listTaskRuns({}).catch((e: unknown) => e)).code).toBe(Code.Unauthenticated);
      const keyed = createTaskwireClient({ apiUrl: secured.url, apiKey: "s3cret" });
      await expect(keyed.taskRuns.listTaskRuns({})).resolves.toBeDefined();
      expect((await fetch(`${secured.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${secured.url}/metrics?api_key=s3cret`)).status).toBe(401);
      expect((await fetch(`${secured.url}/metrics`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});

describe("concurrency limits", () => {
  it("never runs more runs of a tag at once than its limit, across workers", async () => {
    await t.client.taskRuns.setConcurrencyLimit({ tag: "database", limit: 2 });
    let running = 0;
    let most = 0;
    const query = task(async function tagLimited(i: number) {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running--;
      return i;
    }, { client: t.client, tags: ["database"] });
    const workers = [serveNow(query), serveNow(query)];
    try {
      const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => query.delay(i)));
      expect(await Promise.all(runs.map((run) => run.result(10_000)))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(most).toBe(2);
      const { concurrencyLimits } = await t.client.taskRuns.listConcurrencyLimits({});
      expect(concurrencyLimits.find((l) => l.tag === "database")).toMatchObject({ limit: 2, active: 0 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await t.client.taskRuns.deleteConcurrencyLimit({ tag: "database" });
    }
  });

  it("limits a task key with the tag task_key:<key>, and the CLI manages limits", async () => {
    const env = { ...process.env, TASKWIRE_API_URL: t.server.url, TASKWIRE_HOME: t.home };
    // Not spawnSync: the server answering the CLI runs in this very process.
    const { execFile } = await import("node:child_process");
    const taskwire = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) =>
          resolve({ status: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
    expect((await taskwire("concurrency-limit", "create", "task_key:oneAtATime", "1")).status).toBe(0);
    expect((await taskwire("concurrency-limit", "ls")).stdout).toMatch(/task_key:oneAtATime\s+1\s+0/);
    let running = 0;
    let most = 0;
    const one = task(async function oneAtATime() {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 50));
      running--;
    }, { client: t.client });
    const worker = serveNow(one);
    try {
      const runs = await Promise.all(Array.from({ length: 4 }, () => one.delay()));
      await Promise.all(runs.map((run) => run.result(10_000)));
      expect(most).toBe(1);
    } finally {
      await worker.stop();
    }
    expect((await taskwire("concurrency-limit", "delete", "task_key:oneAtATime")).status).toBe(0);
    // A plain JavaScript module served by the CLI, and a scheduled run cancelled from the CLI.
    const jsWorker = await startProcess([cli, "task", "serve", `${jsFixture}:shout`, "--limit", "2"], env, "serving");
    try {
      const shout = task("shout", (_text: string) => "", { client: t.client });
      expect(await (await shout.delay("hello")).result(10_000)).toBe("HELLO!");
    } finally {
      jsWorker.kill("SIGKILL");
    }
    const later = await one.applyAsync([], { delaySeconds: 3600 });
    const cancel = await taskwire("task-run", "cancel", later.id);
    expect(cancel.status).toBe(0);
    expect((await later.wait()).state).toBe("CANCELLED");
    const missing = await taskwire("concurrency-limit", "delete", "task_key:oneAtATime");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND: no concurrency limit for tag "task_key:oneAtATime"/);
  });
});

describe("review regressions", () => {
  it("keeps the server idle with a run scheduled 30 days ahead (no timer overflow loop)", async () => {
    const far = task(function farAhead() {}, { client: t.client });
    await far.applyAsync([], { delaySeconds: 30 * 24 * 3600 });
    const commits = async () => Number(/^taskwire_commits_total (\d+)$/m.exec(await (await fetch(`${t.server.url}/metrics`)).text())?.[1]);
    const before = await commits();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await commits()) - before).toBeLessThan(5);
  });

  it("does not hold back untagged runs while a concurrency limit on some runs of the key is full", async () => {
    await t.client.taskRuns.setConcurrencyLimit({ tag: "one_x", limit: 1 });
    const release: (() => void)[] = [];
    const mixed = task(async function mixedLimits(name: string) {
      if (name.startsWith("x")) await new Promise<void>((resolve) => release.push(resolve));
      return name;
    }, { client: t.client });
    const x = await Promise.all(["x1", "x2"].map((name) => mixed.applyAsync([name], { tags: ["one_x"] })));
    const y = await Promise.all(Array.from({ length: 8 }, (_, i) => mixed.delay(`y${i}`)));
    const worker = createWorker({ tasks: [mixed], client: t.client, limit: 10, log: () => {} });
    void worker.start();
    try {
      // Every y run finishes while x1 holds the only slot of its limit.
      expect(await Promise.all(y.map((run) => run.result(5_000)))).toEqual(y.map((_, i) => `y${i}`));
      await eventually(() => release.length === 1);
      release[0]();
      await eventually(() => release.length === 2);
      release[1]();
      expect(await Promise.all(x.map((run) => run.result(5_000)))).toEqual(["x1", "x2"]);
    } finally {
      await worker.stop();
      await t.client.taskRuns.deleteConcurrencyLimit({ tag: "one_x" });
    }
  });
});
