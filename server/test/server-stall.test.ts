import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, task, type TaskwireClient } from "taskwire";
import { TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, startProcess } from "../src/bench/processes.js";
import { eventually } from "./support/test-server.js";

// A server process stopped (SIGSTOP) for longer than the lease, then resumed: the heartbeats
// and results its workers sent meanwhile wait in the sockets, and must count.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const limitsServer = fileURLToPath(new URL("./fixtures/limits-server.mjs", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures/counted-tasks.ts", import.meta.url));
// The stall is what is asserted: twice the lease. The other windows must hold on a loaded
// machine, so none is shorter than the lease: the ack window (600 ms here re-queued runs
// whose Started a busy worker process sent late, as in run-options.test.ts) is the lease,
// and heartbeats come ten times per lease, so a few late ones lose nothing.
const LEASE_MS = 1_500;
const STALL_MS = 2 * LEASE_MS;

let home: string;
let url: string;
let port: number;
let client: TaskwireClient;
const children: ChildProcess[] = [];

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "taskwire-stall-"));
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  client = createTaskwireClient({ apiUrl: url, apiKey: "" });
});

afterEach(async () => {
  client.close();
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  }
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ TASKWIRE_HOME: home, TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn", TASKWIRE_SERVER_PORT: String(port) });

describe("a server that was not running", () => {
  it("does not expire the leases of its workers after being stopped for longer than the lease", async () => {
    const limits = { leaseDurationMs: LEASE_MS, heartbeatIntervalMs: LEASE_MS / 10, ackTimeoutMs: LEASE_MS };
    const server = await startProcess([limitsServer], { ...env(), TASKWIRE_TEST_LIMITS: JSON.stringify(limits) }, "listening on");
    children.push(server);
    for (let i = 0; i < 2; i++) {
      children.push(await startProcess([cli, "task", "serve", `${fixtures}:counted`, "--limit", "3"], env(), "serving"));
    }
    const executions = join(home, "executions.txt");
    const counted = task("counted", (_file: string, value: string, _seconds: number) => value, { client });
    // Some runs end while the server is stopped (their results wait in the socket), some
    // after: from half the stall to twice its length.
    const values = ["a", "b", "c", "d", "e", "f"];
    const seconds = (i: number) => ((0.5 + (i * 1.5) / (values.length - 1)) * STALL_MS) / 1000;
    const runs = await Promise.all(values.map((value, i) => counted.delay(executions, value, seconds(i))));
    // Every run has started (a slow worker may start its last ones after the first ended):
    // the stall then catches each one RUNNING or holding its result in the socket.
    await eventually(async () => {
      const { taskRuns } = await client.taskRuns.listTaskRuns({});
      return taskRuns.filter((run) => run.startTime !== undefined).length === values.length;
    }, 10 * LEASE_MS);
    const { taskRuns: atStall } = await client.taskRuns.listTaskRuns({});
    expect(atStall.filter((run) => run.state === TaskRunState.RUNNING).length).toBeGreaterThan(0);

    server.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, STALL_MS));
    server.kill("SIGCONT");

    expect(await Promise.all(runs.map((run) => run.result(20_000)))).toEqual(values);
    for (const run of runs) {
      const { taskRun } = await client.taskRuns.getTaskRun({ id: run.id });
      expect({ attempts: taskRun?.attempts, redeliveries: taskRun?.redeliveries }).toEqual({ attempts: 1, redeliveries: 0 });
    }
    expect(readFileSync(executions, "utf8").trim().split("\n").sort()).toEqual(values);
  });
});
