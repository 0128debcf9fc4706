import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, createWorker, task, type TaskwireClient } from "taskwire";
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
let client: TaskwireClient;
let server: ChildProcess | undefined;

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-unread-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
  const limits = { leaseDurationMs: 3_000, heartbeatIntervalMs: 500, ackTimeoutMs: 1_000 };
  const env = { TASKWIRE_HOME: home, TASKWIRE_SERVER_PORT: String(port), TASKWIRE_TEST_LIMITS: JSON.stringify(limits) };
  server = await startProcess([limitsServer], env, "listening on");
});

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
    const pid = server?.pid ?? 0;
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
});
