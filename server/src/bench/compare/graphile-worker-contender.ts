import { fileURLToPath } from "node:url";
import { type Job, Logger, makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import type { BenchDatabase } from "../bench-database.js";
import type { BenchSystem } from "../bench-system.js";
import { startProcess } from "../processes.js";
import { packageVersion, pollUntil } from "./poll-until.js";

const workerScript = fileURLToPath(new URL("./graphile-worker-worker.js", import.meta.url));

/**
 * graphile-worker as the workloads measure it, on the benchmark's private PostgreSQL
 * cluster (a fresh database per workload): jobs added with `addJob` (a pool of 10
 * connections), workers woken by LISTEN/NOTIFY. It deletes a job once done and keeps no
 * result, so the producer learns a job finished when its row is gone: one job polled every
 * 2 ms in W2, the whole table every 50 ms in W1; in W3, completed = delayed − rows left.
 */
export async function createGraphileWorkerContender(database: BenchDatabase): Promise<BenchSystem<Job>> {
  const version = await packageVersion("graphile-worker");
  return {
    label: `graphile-worker ${version} (PostgreSQL, durable commits)`,
    close: () => database.close(),
    async open() {
      const url = (await database.fresh()) ?? "";
      const utils = await makeWorkerUtils({ connectionString: url, logger: new Logger(() => () => {}) });
      await utils.migrate();
      const reader = new pg.Client({ connectionString: url });
      await reader.connect();
      const count = async (sql: string, params: unknown[] = []) => Number((await reader.query<{ n: string }>(sql, params)).rows[0].n);
      const jobsLeft = () => count("SELECT count(*) AS n FROM graphile_worker._private_jobs");
      return {
        serverPids: [],
        databaseCpuSeconds: () => database.cpuSeconds(),
        delay: (n, padding) => utils.addJob("noop", padding ? { n, padding } : { n }),
        result: (job) => pollUntil(async () => (await count("SELECT count(*) AS n FROM graphile_worker._private_jobs WHERE id = $1", [job.id])) === 0, 2),
        allDone: () => pollUntil(async () => (await jobsLeft()) === 0, 50),
        startWorker: () => startProcess([workerScript, url, "50"], {}, "bench worker ready"),
        completedBetween: async (_start, _end, produced) => produced - (await jobsLeft()),
        async close() {
          await reader.end();
          await utils.release();
        },
      };
    },
  };
}
