import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTaskwireClient, setDefaultClient, type TaskRunFuture, type TaskwireClient } from "taskwire";
import { createBenchDatabase } from "./bench-database.js";
import { noop } from "./bench-tasks.js";
import { completedBetween } from "./completed-between.js";
import { freePort, peakRssMiB, startProcess, stopProcess } from "./processes.js";

/**
 * `npm run bench [-- --store postgres [--servers 3]]`: the three workloads of the speed
 * targets, server(s) and worker each in a process of its own. On embedded SQLite with
 * durable commits (WAL, synchronous=FULL) by default; with `--store postgres`, on a private
 * PostgreSQL cluster (durable commits) shared by `--servers` servers, the producer talking
 * to the first and the worker to the last.
 *   W1: 20,000 runs delayed (64 in flight), then drained by one worker (limit 50).
 *   W2: 1,000 sequential delay() + result() round trips: latency percentiles.
 *   W3: 20 s of producing (64 in flight) while one worker consumes: completed runs/s.
 * Each workload gets a fresh database; on PostgreSQL the database's CPU seconds are printed.
 */
const { values: args } = parseArgs({
  options: { store: { type: "string", default: "sqlite" }, servers: { type: "string", default: "1" } },
});
const STORE = args.store;
const SERVERS = Number(args.servers);
if (STORE !== "sqlite" && STORE !== "postgres") throw new Error(`--store ${STORE}: expected sqlite or postgres`);
if (!Number.isInteger(SERVERS) || SERVERS < 1) throw new Error(`--servers ${args.servers}: expected a whole number >= 1`);
if (STORE === "sqlite" && SERVERS > 1) throw new Error("--servers: SQLite is one server per database; use --store postgres");

const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const workerScript = fileURLToPath(new URL("./bench-worker.js", import.meta.url));
const W1_RUNS = Number(process.env.BENCH_W1_RUNS ?? 20_000);
const W2_ROUNDS = Number(process.env.BENCH_W2_ROUNDS ?? 1_000);
const W3_SECONDS = Number(process.env.BENCH_W3_SECONDS ?? 20);
const IN_FLIGHT = 64;
const database = await createBenchDatabase(STORE);
// Should a workload fail, the PostgreSQL cluster is still stopped and deleted.
process.once("exit", () => database.close());

interface Servers {
  /** The environment of the worker: TASKWIRE_API_URL is the last server's address. */
  workerEnv: NodeJS.ProcessEnv;
  client: TaskwireClient;
}

async function withServers<T>(
  fn: (servers: Servers) => Promise<T>,
): Promise<{ result: T; serverRss: number[]; databaseCpu: number | undefined }> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-bench-"));
  const databaseUrl = await database.fresh();
  const ports = await Promise.all(Array.from({ length: SERVERS }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const env = { TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "warn", ...(databaseUrl ? { TASKWIRE_DATABASE_URL: databaseUrl } : {}) };
  const servers = [];
  // One after the other: the first creates the schema.
  for (const port of ports) servers.push(await startProcess([cli, "server", "start", "--port", String(port)], env, "listening on"));
  const client = createTaskwireClient({ apiUrl: urls[0], apiKey: "" });
  setDefaultClient(client);
  const cpuBefore = database.cpuSeconds();
  try {
    const result = await fn({ workerEnv: { ...env, TASKWIRE_API_URL: urls[urls.length - 1] }, client });
    const cpuAfter = database.cpuSeconds();
    const databaseCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    return { result, serverRss: servers.map((server) => peakRssMiB(server.pid ?? 0)), databaseCpu };
  } finally {
    client.close();
    for (const server of servers) await stopProcess(server);
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
  return withServers(async ({ workerEnv: env }) => {
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
  return withServers(async ({ workerEnv: env }) => {
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
  return withServers(async ({ workerEnv: env, client }) => {
    const worker = await startWorker(env);
    const start = Date.now();
    const end = start + W3_SECONDS * 1000;
    const produced = await produce(Number.POSITIVE_INFINITY, () => Date.now() >= end);
    const workerRss = peakRssMiB(worker.pid ?? 0);
    await stopProcess(worker);
    const completed = await completedBetween(client, "noop", start, end);
    return { produced, completedRate: Math.round(completed / W3_SECONDS), workerRss };
  });
}

const serverRss = (rss: number[]) => (rss.length === 1 ? `server ${rss[0]} MiB` : `servers ${rss.join("/")} MiB`);
const databaseCpu = (seconds: number | undefined) => (seconds === undefined ? "" : `; database CPU ${seconds.toFixed(1)} s`);
console.log(`store ${STORE}, ${SERVERS} server${SERVERS === 1 ? "" : "s"}`);
const one = await w1();
console.log(
  `W1  delay ${one.result.delayRate} runs/s, drain ${one.result.drainRate} runs/s ` +
    `(${W1_RUNS} runs; peak RSS ${serverRss(one.serverRss)}, worker ${one.result.workerRss} MiB, producer ${ownRss()} MiB` +
    `${databaseCpu(one.databaseCpu)})`,
);
const two = await w2();
console.log(
  `W2  delay+result p50 ${two.result.p50} ms, p90 ${two.result.p90} ms, p99 ${two.result.p99} ms ` +
    `(${W2_ROUNDS} sequential; peak RSS ${serverRss(two.serverRss)}, worker ${two.result.workerRss} MiB${databaseCpu(two.databaseCpu)})`,
);
const three = await w3();
console.log(
  `W3  ${three.result.completedRate} completed runs/s while producing (${W3_SECONDS} s, ${three.result.produced} delayed; ` +
    `peak RSS ${serverRss(three.serverRss)}, worker ${three.result.workerRss} MiB, producer ${ownRss()} MiB${databaseCpu(three.databaseCpu)})`,
);
process.exit(0);
