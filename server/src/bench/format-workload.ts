import type { BenchOptions } from "./bench-system.js";
import { W1_RUNS, W2_ROUNDS, W3_SECONDS, type WorkloadResult } from "./workloads.js";

const list = (values: number[]) => values.join("/");

/** One line of `npm run bench`'s output for a workload: its figures, peak RSS and CPU seconds per 1,000 runs. */
export function formatWorkload(result: WorkloadResult, options: BenchOptions): string {
  const { servers, workers, producer } = result.peakRssMiB;
  const serverRss = servers.length === 0 ? "" : `${servers.length === 1 ? "server" : "servers"} ${list(servers)} MiB, `;
  const workerRss = `${workers.length === 1 ? "worker" : "workers"} ${list(workers)} MiB`;
  const database = result.cpu.database === undefined ? "" : `; database CPU ${result.cpu.database.toFixed(1)} s`;
  const per = result.cpuPer1000;
  const cpu = `CPU s per 1,000 runs: ${[
    per.server === undefined ? "" : `server ${per.server.toFixed(3)}`,
    per.database === undefined ? "" : `database ${per.database.toFixed(3)}`,
    `worker ${per.worker.toFixed(3)}`,
    `producer ${per.producer.toFixed(3)}`,
  ]
    .filter(Boolean)
    .join(", ")}`;
  switch (result.workload) {
    case "W1":
      return (
        `W1  delay ${result.delayRate} runs/s, drain ${result.drainRate} runs/s (${W1_RUNS} runs` +
        `${options.workers > 1 ? `, ${options.workers} workers` : ""}; peak RSS ${serverRss}${workerRss}, producer ${producer} MiB${database})\n    ${cpu}`
      );
    case "W2":
      return (
        `W2  delay+result p50 ${result.p50?.toFixed(2)} ms, p90 ${result.p90?.toFixed(2)} ms, p99 ${result.p99?.toFixed(2)} ms ` +
        `(${W2_ROUNDS} sequential; peak RSS ${serverRss}${workerRss}${database})\n    ${cpu}`
      );
    case "W3":
      return (
        `W3  ${result.completedRate} completed runs/s while producing (${W3_SECONDS} s, ${result.produced} delayed; ` +
        `peak RSS ${serverRss}${workerRss}, producer ${producer} MiB${database})\n    ${cpu}`
      );
  }
}
