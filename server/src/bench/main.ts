import { parseArgs } from "node:util";
import { createBenchDatabase } from "./bench-database.js";
import type { BenchOptions, BenchSystem } from "./bench-system.js";
import { formatWorkload } from "./format-workload.js";
import { createTaskwireSystem } from "./taskwire-system.js";
import { w1, w2, w3 } from "./workloads.js";

/**
 * `npm run bench [-- options]`: the three workloads of the speed targets, server(s) and
 * workers each in a process of its own, the producer in this one. On embedded SQLite with
 * durable commits (WAL, synchronous=FULL) by default; with `--store postgres`, on a private
 * PostgreSQL cluster (durable commits) shared by `--servers` servers, the producer talking
 * to the first and the workers to the last.
 *   W1: 20,000 runs delayed (64 in flight), then drained by `--workers` workers (limit 50 each).
 *   W2: 1,000 sequential delay() + result() round trips: latency percentiles.
 *   W3: 20 s of producing (64 in flight) while `--workers` workers consume: completed runs/s.
 * `--payload BYTES` pads each run's parameters to about that size, `--keys N` spreads the
 * runs over N task keys, `--json` prints one JSON object per workload. `--system` measures
 * a contender of `npm run bench:compare` instead (bullmq, graphile-worker, pg-boss).
 * Each workload gets a fresh database; every figure line adds CPU seconds per 1,000 runs.
 */
const { values: args } = parseArgs({
  options: {
    system: { type: "string", default: "taskwire" },
    store: { type: "string", default: "sqlite" },
    servers: { type: "string", default: "1" },
    workers: { type: "string", default: "1" },
    payload: { type: "string", default: "0" },
    keys: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});

function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} ${value}: expected a whole number >= ${min}`);
  return n;
}

const SYSTEM = args.system;
const STORE = args.store;
const SERVERS = wholeNumber("servers", args.servers, 1);
const options: BenchOptions = {
  workers: wholeNumber("workers", args.workers, 1),
  payloadBytes: wholeNumber("payload", args.payload, 0),
  keys: wholeNumber("keys", args.keys, 1),
};
if (STORE !== "sqlite" && STORE !== "postgres") throw new Error(`--store ${STORE}: expected sqlite or postgres`);
if (STORE === "sqlite" && SERVERS > 1) throw new Error("--servers: SQLite is one server per database; use --store postgres");
if (SYSTEM !== "taskwire" && (options.keys > 1 || SERVERS > 1)) throw new Error(`--keys and --servers measure taskwire only, not ${SYSTEM}`);

async function createSystem(): Promise<BenchSystem> {
  switch (SYSTEM) {
    case "taskwire":
      return createTaskwireSystem(await createBenchDatabase(STORE as "sqlite" | "postgres"), SERVERS, options);
    case "bullmq":
      return (await import("./compare/bullmq-contender.js")).createBullmqContender();
    case "graphile-worker":
      return (await import("./compare/graphile-worker-contender.js")).createGraphileWorkerContender(await createBenchDatabase("postgres"));
    case "pg-boss":
      return (await import("./compare/pg-boss-contender.js")).createPgBossContender(await createBenchDatabase("postgres"));
    default:
      throw new Error(`--system ${SYSTEM}: expected taskwire, bullmq, graphile-worker or pg-boss`);
  }
}

const system = await createSystem();
// Should a workload fail, the PostgreSQL cluster or the Redis is still stopped and deleted.
process.once("exit", () => system.close());
const scaling = [
  options.workers > 1 ? `${options.workers} workers` : "",
  options.payloadBytes > 0 ? `parameters of about ${options.payloadBytes} bytes` : "",
  options.keys > 1 ? `${options.keys} task keys` : "",
].filter(Boolean);
if (!args.json) console.log(`${SYSTEM === "taskwire" ? `store ${STORE}, ${SERVERS} server${SERVERS === 1 ? "" : "s"}` : system.label}${scaling.map((s) => `, ${s}`).join("")}`);
for (const workload of [w1, w2, w3]) {
  const result = await workload(system, options);
  console.log(args.json ? JSON.stringify({ system: system.label, ...options, ...result }) : formatWorkload(result, options));
}
process.exit(0);
