import { fileURLToPath } from "node:url";
import PgBoss from "pg-boss";
import pg from "pg";
import type { BenchDatabase } from "../bench-database.js";
import type { BenchSystem } from "../bench-system.js";
import { startProcess } from "../processes.js";
import { packageVersion, pollUntil } from "./poll-until.js";

const workerScript = fileURLToPath(new URL("./pg-boss-worker.js", import.meta.url));

/**
 * pg-boss as the workloads measure it, on the benchmark's private PostgreSQL cluster (a
 * fresh database per workload): queue "bench" with its defaults, jobs sent with `send` (a
 * pool of 10 connections). A finished job stays in `pgboss.job` as completed, and pg-boss
 * has no call that waits for one, so the producer polls: one job every 2 ms in W2, the
 * count of completed jobs every 50 ms in W1; W3 counts jobs completed in the window.
 */
export async function createPgBossContender(database: BenchDatabase): Promise<BenchSystem<string>> {
  const version = await packageVersion("pg-boss");
  return {
    label: `pg-boss ${version} (PostgreSQL, durable commits)`,
    close: () => database.close(),
    async open() {
      const url = (await database.fresh()) ?? "";
      const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false });
      boss.on("error", (error: Error) => process.stderr.write(`pg-boss: ${error.message}\n`));
      await boss.start();
      await boss.createQueue("bench");
      const reader = new pg.Client({ connectionString: url });
      await reader.connect();
      const count = async (sql: string, params: unknown[] = []) => Number((await reader.query<{ n: string }>(sql, params)).rows[0].n);
      const completed = "SELECT count(*) AS n FROM pgboss.job WHERE name = 'bench' AND state = 'completed'";
      return {
        serverPids: [],
        databaseCpuSeconds: () => database.cpuSeconds(),
        async delay(n, padding) {
          const id = await boss.send("bench", padding ? { n, padding } : { n });
          if (!id) throw new Error("pg-boss did not create the job");
          return id;
        },
        result: (id) => pollUntil(async () => (await count(`${completed} AND id = $1`, [id])) === 1, 2),
        allDone: (ids) => pollUntil(async () => (await count(completed)) >= ids.length, 50),
        startWorker: () => startProcess([workerScript, url, "50"], {}, "bench worker ready"),
        completedBetween: (start, end) =>
          count(`${completed} AND completed_on BETWEEN to_timestamp($1::float8 / 1000) AND to_timestamp($2::float8 / 1000)`, [start, end]),
        async close() {
          await reader.end();
          await boss.stop({ graceful: false, wait: true });
        },
      };
    },
  };
}
