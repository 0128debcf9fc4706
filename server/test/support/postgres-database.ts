import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
// @ts-expect-error: a plain ES module script, shared with scripts/test.mjs.
import { startPostgres, stopPostgres } from "../../../scripts/postgres.mjs";

export interface TestPostgres {
  /** A database of this test file's own. */
  readonly url: string;
  /** The URL of a new, empty schema in that database (a fresh store for one test). */
  newSchema(): Promise<string>;
}

/**
 * A real PostgreSQL for one test file: a database of its own, created before the file's
 * tests and dropped after them. The cluster is the one `scripts/test.mjs` started
 * (TASKWIRE_TEST_DATABASE_URL); run alone under vitest, the file starts a private cluster
 * itself (about 1 s) and stops it afterwards, so the PostgreSQL tests never skip.
 */
export function usePostgres(): TestPostgres {
  let adminUrl = process.env.TASKWIRE_TEST_DATABASE_URL;
  let clusterDir: string | undefined;
  let databaseUrl: string | undefined;
  let database = "";

  beforeAll(async () => {
    if (!adminUrl) {
      const cluster = await startPostgres();
      adminUrl = cluster.url as string;
      clusterDir = cluster.dir as string;
      // Should afterAll never run (the file's process ends early), the cluster still stops.
      process.once("exit", stopOnce);
    }
    database = `taskwire_test_${randomBytes(6).toString("hex")}`;
    await admin(adminUrl, `CREATE DATABASE ${database}`);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }, 60_000);

  afterAll(async () => {
    if (adminUrl && database) await admin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    stopOnce();
  }, 60_000);

  function stopOnce() {
    if (!clusterDir) return;
    const dir = clusterDir;
    clusterDir = undefined;
    stopPostgres(dir);
  }

  return {
    get url() {
      if (!databaseUrl) throw new Error("the test database is created in beforeAll");
      return databaseUrl;
    },
    async newSchema() {
      const schema = `s_${randomBytes(6).toString("hex")}`;
      await admin(this.url, `CREATE SCHEMA ${schema}`);
      const url = new URL(this.url);
      url.searchParams.set("options", `-c search_path=${schema}`);
      return url.toString();
    },
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
