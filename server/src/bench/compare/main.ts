import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { WorkloadResult } from "../workloads.js";
import { compareTables, type SystemRounds } from "./compare-table.js";

/**
 * `npm run bench:compare [-- --store postgres] [--rounds 2]`: taskwire and its contenders on
 * the workloads of `npm run bench`, each round of each system a process of its own
 * (`bench/main.js --json --system …`: the producer in it, the worker of concurrency 50 in
 * another, the server or database in a third), in alternating order (taskwire, BullMQ,
 * BullMQ, taskwire). SQLite: taskwire against BullMQ on a private Redis. PostgreSQL:
 * taskwire against graphile-worker and pg-boss, each on a private cluster started per
 * round. Prints each system's figures, the ratios and the load average seen.
 */
const { values: args } = parseArgs({
  options: { store: { type: "string", default: "sqlite" }, rounds: { type: "string", default: "2" } },
});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${args.rounds}: expected a whole number >= 1`);
const systems: Record<string, string[][]> = {
  sqlite: [["--system", "taskwire"], ["--system", "bullmq"]],
  postgres: [["--system", "taskwire", "--store", "postgres"], ["--system", "graphile-worker"], ["--system", "pg-boss"]],
};
const contenders = systems[args.store];
if (!contenders) throw new Error(`--store ${args.store}: expected sqlite or postgres`);

const bench = fileURLToPath(new URL("../main.js", import.meta.url));

/** One round of one system: its label and its three workload results, from `bench/main.js --json`. */
function runRound(systemArgs: string[]): Promise<{ label: string; results: WorkloadResult[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bench, "--json", ...systemArgs], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench ${systemArgs.join(" ")} exited with ${code}:\n${output}`));
      const lines = output.split("\n").filter((line) => line.startsWith("{"));
      const results = lines.map((line) => JSON.parse(line) as WorkloadResult & { system: string });
      resolve({ label: results[0].system, results });
    });
  });
}

const loadBefore = loadavg();
const loadDuring: number[] = [];
// The 1-minute load average every 5 s: what else the machine was doing meanwhile.
const sampler = setInterval(() => loadDuring.push(loadavg()[0]), 5_000);
const collected = contenders.map((): SystemRounds => ({ label: "", rounds: [] }));
for (let round = 0; round < rounds; round++) {
  const order = contenders.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    process.stderr.write(`round ${round + 1}: ${contenders[i].join(" ")} (load ${loadavg()[0].toFixed(2)})\n`);
    const { label, results } = await runRound(contenders[i]);
    collected[i].label = label;
    collected[i].rounds.push(results);
  }
}
clearInterval(sampler);
const loadAfter = loadavg();

const w = (name: string, fallback: string) => process.env[name] ?? fallback;
const fmt = (load: number[]) => load.map((n) => n.toFixed(2)).join(" ");
console.log(
  `workloads: W1 ${w("BENCH_W1_RUNS", "20000")} runs, W2 ${w("BENCH_W2_ROUNDS", "1000")} rounds, W3 ${w("BENCH_W3_SECONDS", "20")} s; ` +
    `64 in flight, one worker of concurrency 50; ${rounds} round${rounds === 1 ? "" : "s"} each, alternating`,
);
console.log(compareTables(collected));
const during = loadDuring.length === 0 ? "–" : `${Math.min(...loadDuring).toFixed(2)}–${Math.max(...loadDuring).toFixed(2)}`;
console.log(`load average (1/5/15 min): before ${fmt(loadBefore)}; during (1 min) ${during}; after ${fmt(loadAfter)}`);
