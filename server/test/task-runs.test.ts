import { Code, ConnectError } from "@connectrpc/connect";
import { createWorker, task, TaskRunError, UnserializableValueError } from "taskwire";
import { type TaskRun, TaskRunState } from "@taskwire/proto";
import { createAsyncQueue } from "taskwire/async-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";
import { json } from "./support/json-payload.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.stop();
});

async function expectConnectError(promise: Promise<unknown>, code: Code, text: RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  expect(ConnectError.from(error).code).toBe(code);
  expect(ConnectError.from(error).rawMessage).toMatch(text);
}

describe("delay, serve, result", () => {
  it("runs a delayed task on a worker and returns its result to the caller", async () => {
    const add = task(function add(a: number, b: number) {
      return a + b;
    }, { client: t.client });
    const worker = createWorker({ tasks: [add], client: t.client, log: () => {} });
    void worker.start();
    try {
      const run = await add.delay(2, 3);
      expect(await run.result(10_000)).toBe(5);
      const snapshot = await run.wait();
      expect(snapshot.state).toBe("COMPLETED");
      expect(snapshot.workerId).toBe(worker.workerId);
      const { taskRun } = await t.client.taskRuns.getTaskRun({ id: run.id });
      expect(taskRun?.history.map((h) => TaskRunState[h.state])).toEqual(["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]);
    } finally {
      await worker.stop();
    }
  });

  it("watchers get the start time of a run whose RUNNING write went out before its result", async () => {
    // The server holds a RUNNING write back (up to 50 ms) for a result to travel with. Here
    // the task only returns once a watcher saw it RUNNING, so the two writes are apart.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = task(async function slowToFinish() {
      await released;
      return "done";
    }, { client: t.client });
    const worker = createWorker({ tasks: [slow], client: t.client, log: () => {} });
    void worker.start();
    const abort = new AbortController();
    try {
      const run = await slow.delay();
      const requests = createAsyncQueue<{ runIds: string[]; finalOnly: boolean }>();
      requests.push({ runIds: [run.id], finalOnly: false });
      let runningStart: bigint | undefined;
      let final: TaskRun | undefined;
      for await (const response of t.client.taskRuns.watchTaskRuns(requests, { signal: abort.signal })) {
        for (const taskRun of response.taskRuns) {
          if (taskRun.state === TaskRunState.RUNNING && runningStart === undefined) {
            runningStart = taskRun.startTime?.seconds;
            expect(taskRun.startTime).toBeDefined();
            release();
          }
          if (taskRun.state === TaskRunState.COMPLETED) final = taskRun;
        }
        if (final) break;
      }
      expect(final?.startTime).toBeDefined();
      expect(final?.startTime?.seconds).toBe(runningStart);
      expect((await run.wait()).startTime).toBeInstanceOf(Date);
    } finally {
      abort.abort();
      release();
      await worker.stop();
    }
  });

  it("reports a task's failure as data: remote type, message and stack", async () => {
    const validate = task(function validate(email: string) {
      if (!email.includes("@")) throw new RangeError(`bad address ${email}`);
      return email;
    }, { client: t.client });
    const worker = createWorker({ tasks: [validate], client: t.client, log: () => {} });
    void worker.start();
    try {
      const run = await validate.delay("ford");
      const error = await run.result(10_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskRunError);
      expect((error as TaskRunError).remoteType).toBe("RangeError");
      expect((error as TaskRunError).remoteMessage).toBe("bad address ford");
      expect((error as TaskRunError).remoteStack).toContain("validate");
      expect((await run.wait()).state).toBe("FAILED");
    } finally {
      await worker.stop();
    }
  });

  it("calling a task runs it now and records the run on the server", async () => {
    const shout = task(function shout(text: string) {
      return text.toUpperCase();
    }, { client: t.client });
    expect(shout("hi")).toBe("HI");
    const run = await eventually(async () => {
      const { taskRuns } = await t.client.taskRuns.listTaskRuns({ taskKeys: ["shout"] });
      return taskRuns[0];
    });
    expect(TaskRunState[run.state]).toBe("COMPLETED");
    expect(run.foreground).toBe(true);
  });

  it("wait(timeout) returns the current state when no worker runs the task", async () => {
    const nobody = task(function nobodyServesThis() {}, { client: t.client });
    const run = await nobody.delay();
    const snapshot = await run.wait(200);
    expect(snapshot.state).toBe("SCHEDULED");
    expect(snapshot.final).toBe(false);
  });

  it("refuses arguments JSON cannot carry at delay(), before anything is sent", async () => {
    const takes = task(function takesAnything(_value: unknown) {}, { client: t.client });
    await expect(takes.delay(10n)).rejects.toThrow(UnserializableValueError);
    await expect(takes.delay(new Map())).rejects.toThrow(/args\[0\]: a Map has no JSON form/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(takes.delay(cyclic)).rejects.toThrow(/cycle/);
    const { taskRuns } = await t.client.taskRuns.listTaskRuns({ taskKeys: ["takesAnything"] });
    expect(taskRuns).toHaveLength(0);
  });

  it("retries a failed attempt on the server and completes", async () => {
    let calls = 0;
    const flaky = task(function flaky() {
      calls++;
      if (calls < 3) throw new Error(`failure ${calls}`);
      return "ok";
    }, { client: t.client, retries: 2 });
    const worker = createWorker({ tasks: [flaky], client: t.client, log: () => {} });
    void worker.start();
    try {
      const run = await flaky.delay();
      expect(await run.result(10_000)).toBe("ok");
      expect((await run.wait()).attempts).toBe(3);
    } finally {
      await worker.stop();
    }
  });

  it("returns the same run for a second delay with the same idempotency key", async () => {
    const once = task(function once() {}, { client: t.client });
    const first = await once.applyAsync([], { idempotencyKey: "order-42" });
    const second = await once.applyAsync([], { idempotencyKey: "order-42" });
    expect(second.id).toBe(first.id);
    expect(second.existing).toBe(true);
  });

  it("cancels a scheduled run at once", async () => {
    const later = task(function neverServed() {}, { client: t.client });
    const run = await later.delay();
    const snapshot = await run.cancel();
    expect(snapshot.state).toBe("CANCELLED");
    await expect(run.result(1000)).rejects.toThrow(TaskRunError);
    await expectConnectError(t.client.taskRuns.cancelTaskRun({ id: run.id }), Code.FailedPrecondition, /already CANCELLED/);
  });
});

describe("bad input gets a clear error", () => {
  it("an empty task key", async () => {
    await expectConnectError(
      t.client.taskRuns.scheduleTaskRun({ run: { taskKey: " ", parameters: json({ args: [] }) } }),
      Code.InvalidArgument,
      /run\.task_key: must not be empty/,
    );
  });

  it("parameters that are not valid JSON for their content type", async () => {
    const data = new TextEncoder().encode("{not json");
    await expectConnectError(
      t.client.taskRuns.scheduleTaskRuns({
        runs: [
          { taskKey: "ok", parameters: json({ args: [] }) },
          { taskKey: "bad", parameters: { contentType: "application/json", data } },
        ],
      }),
      Code.InvalidArgument,
      /runs\[1\]\.parameters: not valid JSON/,
    );
    // All or nothing: the valid spec of the refused batch was not stored either.
    const { taskRuns } = await t.client.taskRuns.listTaskRuns({ taskKeys: ["ok"] });
    expect(taskRuns).toHaveLength(0);
  });

  it("parameters that are JSON but not {args, kwargs}", async () => {
    await expectConnectError(
      t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "x", parameters: json({ args: "nope" }) } }),
      Code.InvalidArgument,
      /"args" must be an array/,
    );
  });

  it("an unknown run id", async () => {
    await expectConnectError(t.client.taskRuns.getTaskRun({ id: "no-such-run" }), Code.NotFound, /task run "no-such-run" not found/);
    await expectConnectError(t.client.taskRuns.waitTaskRun({ id: "no-such-run", timeoutMs: 10 }), Code.NotFound, /not found/);
  });

  it("parameters over the payload limit", async () => {
    // The default limit: 4 MiB less the 64 KiB the rest of an assignment may take.
    const big = new Uint8Array(4 * 1024 * 1024 - 64 * 1024 + 1).fill(32);
    await expectConnectError(
      t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "x", parameters: { contentType: "application/octet-stream", data: big } } }),
      Code.ResourceExhausted,
      /over the payload limit of 4128768 bytes/,
    );
  });

  it("fields of the wrong type, sent as Connect JSON over HTTP/1.1", async () => {
    const response = await fetch(`${t.server.url}/taskwire.v1.TaskRunService/ScheduleTaskRun`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run: { taskKey: 42, options: { retries: "three" } } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/taskKey|task_key|retries/);
  });

  it("a well-formed request over HTTP/1.1 works too (curl, browsers)", async () => {
    const response = await fetch(`${t.server.url}/taskwire.v1.TaskRunService/ScheduleTaskRun`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run: { taskKey: "from_curl", parameters: { contentType: "application/json", data: btoa('{"args":[1]}') } } }),
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.taskKey).toBe("from_curl");
  });
});

describe("/healthz and /metrics", () => {
  it("reports health and Prometheus metrics on the same port", async () => {
    expect(await (await fetch(`${t.server.url}/healthz`)).text()).toBe("ok\n");
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^taskwire_task_runs\{state="COMPLETED"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^taskwire_commits_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^taskwire_workers_connected \d+$/m);
  });
});
