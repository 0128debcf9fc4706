import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTaskwireClient, type TaskRunFuture, type TaskwireClient, task } from "taskwire";
import { type TaskRun, TaskRunState } from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../src/bench/processes.js";
import type { ChaosMode } from "./fixtures/chaos-tasks.js";
import { usePostgres } from "./support/postgres-database.js";

// Real processes on loopback, killed with SIGKILL while a producer schedules 5,000 runs:
// every run whose delay() resolved ends COMPLETED with its result, once, and none is lost.
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/chaos-tasks.ts", import.meta.url));
const limitsServer = fileURLToPath(new URL("./fixtures/limits-server.mjs", import.meta.url));
const postgres = usePostgres();

const TOTAL = 5_000;
/** delay() calls in flight at once. */
const PRODUCERS = 16;
/** Paced so that production spans the kills below: about 18 s for 5,000 runs. */
const MS_PER_RUN = 3.6;
const WORKER_KILL_EVERY_MS = 2_000;
/** Worker-kill rounds (counted from 1) at which the server is killed instead. */
const SERVER_KILL_ROUNDS = [3, 6];

interface Proc {
  child: ChildProcess;
  /** The last lines it printed, for the failure message. */
  output: string[];
  exited: Promise<void>;
}

let home = "";
let client: TaskwireClient | undefined;
const procs: Proc[] = [];

afterEach(async () => {
  client?.close();
  await Promise.all(procs.splice(0).map(killHard));
  if (home) rmSync(home, { recursive: true, force: true });
});

function startNode(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  // Always read the pipes: a child whose pipe fills up blocks on its next write.
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split("\n").filter(Boolean));
    output.splice(0, Math.max(0, output.length - 30));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const proc = { child, output, exited };
  procs.push(proc);
  return proc;
}

async function waitForOutput(proc: Proc, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proc.output.some((line) => line.includes(text))) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no "${text}" from ${proc.child.spawnargs.slice(1).join(" ")}:\n${proc.output.join("\n")}`);
    }
    await sleep(20);
  }
}

async function killHard(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  await proc.exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every 10 runs: one flaky (retries 2), two slow (one with a timeout it keeps well within). */
function modeOf(n: number): { mode: ChaosMode; retries?: number; timeoutSeconds?: number } {
  switch (n % 10) {
    case 3:
      return { mode: "flaky", retries: 2 };
    case 5:
      return { mode: "slow", timeoutSeconds: 10 };
    case 7:
      return { mode: "slow" };
    case 9:
      return { mode: "plain", timeoutSeconds: 30 };
    default:
      return { mode: "plain" };
  }
}

async function listAll(taskRuns: TaskwireClient["taskRuns"]): Promise<TaskRun[]> {
  const all: TaskRun[] = [];
  let pageToken = "";
  do {
    const page = await taskRuns.listTaskRuns({ taskKeys: ["chaos"], pageSize: 1000, pageToken });
    all.push(...page.taskRuns);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}

/**
 * Where the chaos happens: servers on `ports` (the producer talks to the first), workers
 * given every address (each starting at another), and which server a kill round hits.
 */
interface Setup {
  ports: number[];
  startServer(index: number): Promise<Proc>;
  /** The server killed at the `kill`-th server kill (counted from 0). */
  victim(kill: number): number;
}

async function sqliteOneServer(): Promise<Setup> {
  const port = await freePort();
  return {
    ports: [port],
    async startServer() {
      const server = startNode([cli, "server", "start", "--port", String(port)], { TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "warn" });
      await waitForOutput(server, "listening on", 15_000);
      return server;
    },
    victim: () => 0,
  };
}

async function postgresThreeServers(): Promise<Setup> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const databaseUrl = await postgres.newSchema();
  // Leases of 3 s: the runs of a killed server come back within the test's time.
  const limits = { leaseDurationMs: 3_000, heartbeatIntervalMs: 500, ackTimeoutMs: 2_000 };
  return {
    ports,
    async startServer(index) {
      const server = startNode([limitsServer], {
        TASKWIRE_HOME: home,
        TASKWIRE_SERVER_PORT: String(ports[index]),
        TASKWIRE_DATABASE_URL: databaseUrl,
        TASKWIRE_TEST_LIMITS: JSON.stringify(limits),
        TASKWIRE_LOG_LEVEL: "warn",
      });
      await waitForOutput(server, "listening on", 15_000);
      return server;
    },
    // Never the producer's: its delay() calls are retried anyway; the workers' are the point.
    victim: (kill) => 1 + (kill % 2),
  };
}

describe.each([
  ["SQLite, one server", sqliteOneServer],
  ["PostgreSQL, three servers", postgresThreeServers],
])("chaos on %s", (_name, makeSetup) => {
  it("completes every acknowledged run while workers and servers are killed with SIGKILL", async () => {
    home = mkdtempSync(join(tmpdir(), "taskwire-chaos-"));
    const setup = await makeSetup();
    const urls = setup.ports.map((port) => `http://127.0.0.1:${port}`);
    const url = urls[0];
    let started = 0;
    const startWorker = () => {
      const first = started++ % urls.length;
      const apiUrl = [...urls.slice(first), ...urls.slice(0, first)].join(",");
      const env = { TASKWIRE_HOME: home, TASKWIRE_API_URL: apiUrl, TASKWIRE_LOG_LEVEL: "warn" };
      return startNode([cli, "task", "serve", `${fixture}:chaos`, "--limit", "20"], env);
    };

    const servers = await Promise.all(setup.ports.map((_, i) => setup.startServer(i)));
    const workers = urls.length > 1 ? [startWorker(), startWorker(), startWorker()] : [startWorker(), startWorker()];
    await Promise.all(workers.map((w) => waitForOutput(w, "serving", 15_000)));
    client = createTaskwireClient({ apiUrl: url, apiKey: "" });
    const chaos = task("chaos", (n: number, _mode: ChaosMode) => n * 2, { client });

    // The producer: a delay() that fails because the server is down is sent again; the
    // idempotency key makes the retry return the run if the first call did store it.
    const futures: TaskRunFuture<number>[] = [];
    const stats = { unavailable: 0, reset: 0, existing: 0, workerKills: 0, serverKills: 0 };
    const startedAt = Date.now();
    const otherErrors: string[] = [];
    let next = 0;
    async function produce(): Promise<void> {
      for (let n = next++; n < TOTAL; n = next++) {
        await sleep(startedAt + n * MS_PER_RUN - Date.now());
        const { mode, ...options } = modeOf(n);
        for (;;) {
          try {
            const future = await chaos.applyAsync([n, mode], { ...options, idempotencyKey: `chaos-${n}` });
            if (future.existing) stats.existing++;
            futures[n] = future;
            break;
          } catch (error) {
            // Unavailable: the server is down (ECONNREFUSED), or it died during the call (the
            // SDK reports a lost connection as Unavailable too). Either way the run may or may
            // not be stored, and the same call is safe to send again.
            const e = ConnectError.from(error);
            if (e.code === Code.Unavailable && /connection to the server was lost/.test(e.rawMessage)) stats.reset++;
            else if (e.code === Code.Unavailable) stats.unavailable++;
            else otherErrors.push(`${n}: ${Code[e.code]} ${e.rawMessage}`);
            await sleep(50 + (n % 100));
          }
        }
      }
    }
    const production = Promise.all(Array.from({ length: PRODUCERS }, produce));

    // The chaos: every 2 s a worker dies and a new one starts; twice the server dies instead,
    // and starts again on the same port and database.
    let producing = true;
    void production.finally(() => {
      producing = false;
    });
    for (let round = 1; producing || stats.serverKills < SERVER_KILL_ROUNDS.length; round++) {
      await sleep(WORKER_KILL_EVERY_MS);
      if (SERVER_KILL_ROUNDS.includes(round)) {
        const victim = setup.victim(stats.serverKills);
        await killHard(servers[victim]);
        stats.serverKills++;
        await sleep(300);
        servers[victim] = await setup.startServer(victim);
      } else {
        const i = round % workers.length;
        await killHard(workers[i]);
        stats.workerKills++;
        workers[i] = startWorker();
      }
    }
    await production;
    const producedMs = Date.now() - startedAt;

    // Every acknowledged run completes with its own result, and is stored once: no run lost,
    // none duplicated by a retried delay().
    const results = await Promise.race([
      Promise.all(futures.map((future) => future.result())),
      sleep(45_000).then(() => {
        throw new Error("runs not final 45 s after the last delay()");
      }),
    ]);
    expect(otherErrors).toEqual([]);
    expect(futures.filter(Boolean)).toHaveLength(TOTAL);
    expect(results).toEqual(Array.from({ length: TOTAL }, (_, n) => n * 2));

    const stored = await listAll(client.taskRuns);
    const nOf = new Map(futures.map((future, n) => [future.id, n]));
    expect(stored).toHaveLength(TOTAL);
    expect(new Set(stored.map((run) => run.id))).toEqual(new Set(nOf.keys()));
    expect(stored.filter((run) => run.state !== TaskRunState.COMPLETED)).toEqual([]);
    // A flaky run fails once at most (only its first attempt throws); the others never.
    for (const run of stored) {
      expect(run.retriesUsed, run.id).toBeLessThanOrEqual(modeOf(nOf.get(run.id) ?? 0).mode === "flaky" ? 1 : 0);
    }
    const sum = (f: (run: TaskRun) => number) => stored.reduce((total, run) => total + f(run), 0);
    const retried = sum((run) => run.retriesUsed);
    const redelivered = sum((run) => run.redeliveries);
    // The kills did hit runs in flight, and the flaky runs were retried by the server.
    expect(redelivered).toBeGreaterThan(0);
    expect(retried).toBeGreaterThan(0);
    console.log(
      `chaos: ${TOTAL} runs COMPLETED in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (produced in ${(producedMs / 1000).toFixed(1)} s); ` +
        `${sum((run) => (run.attempts > 1 ? 1 : 0))} with attempts > 1, ${redelivered} redeliveries in total, ` +
        `${retried} retries; ${stats.workerKills} worker kills, ${stats.serverKills} server kills; ` +
        `delay() retried ${stats.unavailable} times after Unavailable and ${stats.reset} after the server died mid-call, ` +
        `${stats.existing} runs found already stored`,
    );
  }, 120_000);
});
