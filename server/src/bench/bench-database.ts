import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { processTreeCpuSeconds } from "./cpu-seconds.js";

/** Where the benchmark's servers store runs, and what the database costs. */
export interface BenchDatabase {
  readonly store: "sqlite" | "postgres";
  /** The TASKWIRE_DATABASE_URL of a new, empty database for one workload; undefined: SQLite in the server's home. */
  fresh(): Promise<string | undefined>;
  /** CPU seconds used by the database's processes so far; undefined on SQLite (it runs inside the server). */
  cpuSeconds(): number | undefined;
  /** Stops and deletes the cluster; synchronous, so that it can run on process exit. Once. */
  close(): void;
}

/**
 * The store of `npm run bench`: SQLite in each server's home, or a private PostgreSQL
 * cluster started the way the tests start theirs (scripts/postgres.mjs: initdb on a free
 * port, durable commits), with a database of its own per workload.
 */
export async function createBenchDatabase(store: "sqlite" | "postgres"): Promise<BenchDatabase> {
  if (store === "sqlite") {
    return { store, fresh: async () => undefined, cpuSeconds: () => undefined, close: () => {} };
  }
  // A plain ES module script shared with the tests; loaded by URL so that tsc leaves it be.
  const script = new URL("../../../scripts/postgres.mjs", import.meta.url).href;
  const { startPostgres, stopPostgres } = (await import(script)) as {
    startPostgres(): Promise<{ url: string; dir: string }>;
    stopPostgres(dir: string): void;
  };
  const cluster = await startPostgres();
  const postmaster = Number(readFileSync(join(cluster.dir, "data/postmaster.pid"), "utf8").split("\n")[0]);
  let databases = 0;
  let stopped = false;
  return {
    store,
    async fresh() {
      const name = `taskwire_bench_${++databases}`;
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(cluster.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    cpuSeconds: () => processTreeCpuSeconds(postmaster),
    close() {
      if (stopped) return;
      stopped = true;
      stopPostgres(cluster.dir);
    },
  };
}
