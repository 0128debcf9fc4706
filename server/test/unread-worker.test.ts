import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, createWorker, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { eventually } from "./support/test-server.js";
import { openUnreadWorker } from "./support/unread-worker.js";

// A worker that never reads its stream, with an enormous limit, next to a healthy one: the
// server's memory stays bounded and the runs complete on the healthy worker.
const limitsServer = fileURLToPath(new URL("./fixtures/limits-server.mjs", import.meta.url));
const MiB = 1024 * 1024;

let home: string;
let url: string;
let port: number;
let client: TaskwireClient;
let server: ChildProcess | undefined;

// The ack window is the lease: the first test asserts that the unread worker costs each run
// at most one attempt, so the healthy worker (in this busy test process, taking in 1 MiB
// runs) must never miss it; a 1 s window is what a loaded machine can miss.
const SHORT_LEASE = { leaseDurationMs: 3_000, heartbeatIntervalMs: 300, ackTimeoutMs: 3_000 };

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-unread-"));
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

async function startServer(limits: object): Promise<number> {
  const env = { TASKWIRE_HOME: home, TASKWIRE_SERVER_PORT: String(port), TASKWIRE_TEST_LIMITS: JSON.stringify(limits) };
  server = await startProcess([limitsServer], env, "listening on");
  return server.pid ?? 0;
}

afterEach(async () => {
  client.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGKILL");
    await exited;
  }
  rmSync(home, { recursive: true, force: true });
});

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
}

describe("a worker that does not read its stream", () => {
  it("gets no more work: memory stays bounded, /healthz answers, the runs complete on a healthy worker", async () => {
    const pid = await startServer(SHORT_LEASE);
    const unread = openUnreadWorker(url, { taskKeys: ["sized"], limit: 1e9 });
    const sized = task(function sized(text: string) {
      return text.length;
    }, { client });
    // One at a time: a run of 1 MiB is one request (HTTP/2 sessions hold ~10 MB at most).
    const runs = [];
    for (let i = 0; i < 48; i++) runs.push(await sized.delay(String(i % 10).repeat(MiB)));

    const rssBefore = rssMiB(pid);
    // The unread worker had the first dispatches to itself; now a healthy worker joins.
    const healthy = createWorker({ tasks: [sized], client, limit: 4, log: () => {} });
    void healthy.start();
    let peakUnsent = 0;
    let peakRss = 0;
    const sampling = setInterval(() => {
      peakRss = Math.max(peakRss, rssMiB(pid));
      metric("taskwire_worker_unsent_bytes").then((bytes) => (peakUnsent = Math.max(peakUnsent, bytes)), () => {});
    }, 100);
    try {
      const results = await Promise.all(runs.map((run) => run.wait(60_000)));
      expect(results.map((run) => run.error?.type ?? run.state)).toEqual(runs.map(() => "COMPLETED"));
      // Each run lost at most one attempt to the unread worker (its ack deadline).
      expect(Math.max(...results.map((run) => run.attempts))).toBeLessThanOrEqual(2);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      clearInterval(sampling);
      await healthy.stop();
      unread.close();
    }
    // The unread stream holds at most its cap: 64 KiB + 8 MiB dispatched + two 4 MiB messages.
    expect(peakUnsent).toBeLessThanOrEqual(17 * MiB);
    // 48 MiB of runs go out; the unread worker must not make the server hold them (it held
    // 48 MiB per ack window, each run sent to it up to 5 times, before it was cut off).
    expect(peakRss - rssBefore).toBeLessThan(200);
  }, 90_000);

  it("is cut off once what waits to be sent to it passes the stream's cap", async () => {
    await startServer(SHORT_LEASE);
    const unread = openUnreadWorker(url, { taskKeys: ["nothing"], limit: 1 });
    try {
      await eventually(async () => (await metric("taskwire_workers_connected")) === 1);
      // Each unknown lease is refused with an Ack of its own, which the worker never reads.
      const runs = Array.from({ length: 50_000 }, (_, i) => ({ runId: `no-such-run-${i}`, leaseToken: "x".repeat(16) }));
      for (let i = 0; i < 4; i++) unread.send({ message: { case: "started", value: { runs } } });
      await eventually(async () => (await metric("taskwire_workers_connected")) === 0);
      expect(await metric("taskwire_worker_unsent_bytes")).toBe(0);
    } finally {
      unread.close();
    }
  });
  it("holds no more than one dispatch while what it was sent waits unsent, and stays connected", async () => {
    // Leases and ack window far beyond the test: only the unsent bytes can keep work from it.
    await startServer({ leaseDurationMs: 600_000, heartbeatIntervalMs: 60_000, ackTimeoutMs: 600_000 });
    const unread = openUnreadWorker(url, { taskKeys: ["sized"], limit: 1e9 });
    try {
      await eventually(async () => (await metric("taskwire_workers_connected")) === 1);
      // 24 MiB of runs, one request each: more than the stream's cap of 16 MiB unsent, had
      // each dispatch gone to the worker that reads nothing.
      const sized = task("sized", (_text: string) => 0, { client });
      for (let i = 0; i < 24; i++) await sized.delay(String(i % 10).repeat(MiB));
      // A run of another task, served by a worker that reads: once it is done, the dispatches
      // after the last run of "sized" was committed are done too.
      const probe = task(function probe() {
        return "done";
      }, { client });
      const reading = createWorker({ tasks: [probe], client, log: () => {} });
      void reading.start();
      try {
        expect(await (await probe.delay()).result(30_000)).toBe("done");
      } finally {
        await reading.stop();
      }
      // One dispatch's 8 MiB of parameters went to it; the rest wait in the queue.
      const { taskRuns } = await client.taskRuns.listTaskRuns({ taskKeys: ["sized"], pageSize: 100 });
      const held = taskRuns.filter((run) => run.state === TaskRunState.PENDING).length;
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(8);
      expect(taskRuns.filter((run) => run.state === TaskRunState.SCHEDULED)).toHaveLength(24 - held);
      // It was not sent more and cut off at the stream's cap: it is still connected.
      expect(await metric("taskwire_workers_connected")).toBe(1);
    } finally {
      unread.close();
    }
  });
});
