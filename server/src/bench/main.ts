import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { createTaskwireClient, setDefaultClient, type TaskRunFuture } from "taskwire";
import { noop } from "./bench-tasks.js";
import { freePort, peakRssMiB, startProcess, stopProcess } from "./processes.js";

/**
 * `npm run bench`: the three workloads of the speed targets, on embedded SQLite with
 * durable commits (WAL, synchronous=FULL), server and worker each in a process of its own.
 *   W1: 20,000 runs delayed (64 in flight), then drained by one worker (limit 50).
 *   W2: 1,000 sequential delay() + result() round trips: latency percentiles.
 *   W3: 20 s of producing (64 in flight) while one worker consumes: completed runs/s.
 */
const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const workerScript = fileURLToPath(new URL("./bench-worker.js", import.meta.url));
const W1_RUNS = Number(process.env.BENCH_W1_RUNS ?? 20_000);
const W2_ROUNDS = Number(process.env.BENCH_W2_ROUNDS ?? 1_000);
const W3_SECONDS = Number(process.env.BENCH_W3_SECONDS ?? 20);
const IN_FLIGHT = 64;

async function withServer<T>(fn: (env: NodeJS.ProcessEnv, home: string) => Promise<T>): Promise<{ result: T; serverRss: number }> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-bench-"));
  const port = await freePort();
  const env = { TASKWIRE_HOME: home, TASKWIRE_API_URL: `http://127.0.0.1:${port}`, TASKWIRE_LOG_LEVEL: "warn" };
  const server = await startProcess([cli, "server", "start", "--port", String(port)], env, "listening on");
  setDefaultClient(createTaskwireClient({ apiUrl: env.TASKWIRE_API_URL, apiKey: "" }));
  try {
    const result = await fn(env, home);
    return { result, serverRss: peakRssMiB(server.pid ?? 0) };
  } finally {
    await stopProcess(server);
    rmSync(home, { recursive: true, force: true });
  }
}

async function produce(count: number, until: () => boolean, futures?: TaskRunFuture<number>[]): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count && !until()) {
        const run = await noop.delay(next++);
        futures?.push(run);
      }
    }),
  );
  return next;
}

function startWorker(env: NodeJS.ProcessEnv) {
  return startProcess([workerScript, "50"], env, "serving noop");
}

const ownRss = () => Math.round(process.resourceUsage().maxRSS / 1024);
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function w1() {
  return withServer(async (env) => {
    const futures: TaskRunFuture<number>[] = [];
    const t0 = performance.now();
    await produce(W1_RUNS, () => false, futures);
    const delayMs = performance.now() - t0;
    const t1 = performance.now();
    const worker = await startWorker(env);
    await Promise.all(futures.map((f) => f.wait()));
    const drainMs = performance.now() - t1;
    const workerRss = peakRssMiB(worker.pid ?? 0);
    await stopProcess(worker);
    return { delayRate: rate(W1_RUNS, delayMs), drainRate: rate(W1_RUNS, drainMs), workerRss };
  });
}

async function w2() {
  return withServer(async (env) => {
    const worker = await startWorker(env);
    const latencies: number[] = [];
    for (let i = 0; i < W2_ROUNDS + 50; i++) {
      const t = performance.now();
      const run = await noop.delay(i);
      await run.result();
      // The first 50 warm up connections and the JIT.
      if (i >= 50) latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
    const workerRss = peakRssMiB(worker.pid ?? 0);
    await stopProcess(worker);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), workerRss };
  });
}

async function w3() {
  return withServer(async (env, home) => {
    const worker = await startWorker(env);
    const start = Date.now();
    const end = start + W3_SECONDS * 1000;
    const produced = await produce(Number.POSITIVE_INFINITY, () => Date.now() >= end);
    const workerRss = peakRssMiB(worker.pid ?? 0);
    await stopProcess(worker);
    const db = new Database(join(home, "taskwire.db"), { readonly: true });
    const completed = db
      .prepare("SELECT count(*) FROM task_runs WHERE state = 'COMPLETED' AND ended_at BETWEEN ? AND ?")
      .pluck()
      .get(start, end) as number;
    db.close();
    return { produced, completedRate: Math.round(completed / W3_SECONDS), workerRss };
  });
}

const one = await w1();
console.log(
  `W1  delay ${one.result.delayRate} runs/s, drain ${one.result.drainRate} runs/s ` +
    `(${W1_RUNS} runs; peak RSS server ${one.serverRss} MiB, worker ${one.result.workerRss} MiB, producer ${ownRss()} MiB)`,
);
const two = await w2();
console.log(
  `W2  delay+result p50 ${two.result.p50} ms, p90 ${two.result.p90} ms, p99 ${two.result.p99} ms ` +
    `(${W2_ROUNDS} sequential; peak RSS server ${two.serverRss} MiB, worker ${two.result.workerRss} MiB)`,
);
const three = await w3();
console.log(
  `W3  ${three.result.completedRate} completed runs/s while producing (${W3_SECONDS} s, ${three.result.produced} delayed; ` +
    `peak RSS server ${three.serverRss} MiB, worker ${three.result.workerRss} MiB, producer ${ownRss()} MiB)`,
);
process.exit(0);
