import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListFilter } from "../src/store/store.js";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { runPageQuery as postgresRunPageQuery } from "../src/store/postgres-run-queries.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { runPageQuery } from "../src/store/sqlite-run-queries.js";
import { usePostgres } from "./support/postgres-database.js";

// The runs list pages under every filter of the Runs page on an index: a filter matching
// ten runs of a million must not walk the table's million rows to fill its page. The plan
// is what the database says it will do (EXPLAIN) on a schema the store migrated.

const NONE: ListFilter = { taskKeys: [], states: [], tag: "", limit: 50 };
/** Filters on one value: their index yields the runs in seq order, so no sort either. */
const IN_SEQ_ORDER = new Set(["a rare state", "a task key", "a tag", "a worker", "a state and a worker"]);
const FILTERS: Record<string, Partial<ListFilter>> = {
  "a rare state": { states: ["FAILED"] },
  "two states": { states: ["CANCELLED", "FAILED"] },
  "a task key": { taskKeys: ["send_email"] },
  "a tag": { tag: "customer:42" },
  "a worker": { workerId: "worker-7" },
  "the start of an id": { idPrefix: "01a2" },
  "a whole id": { idPrefix: "01a22800-0000-7000-8000-000000000000" },
  "a time range": { createdAfter: 1_700_000_000_000, createdBefore: 1_700_000_600_000 },
  "a state and a worker": { states: ["RUNNING"], workerId: "worker-7" },
};

const postgres = usePostgres();
let directory: string;
let db: Database.Database;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "taskwire-plan-"));
  const path = join(directory, "taskwire.db");
  await createSqliteStore({ path }).close();
  db = new Database(path, { readonly: true });
});

afterAll(() => {
  db?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** The plan's lines. */
function plan(sql: string, params: unknown[]): string[] {
  return db.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((row) => row.detail);
}

/** The lines that read task_runs or task_run_tags other than through a range of an index. */
function scans(lines: string[]): string[] {
  // SEARCH reads a range of an index; SCAN reads all of the table or of an index.
  return lines.filter((line) => /task_run(s|_tags)\b/.test(line) && !/^SEARCH /.test(line));
}

describe("the runs list on SQLite", () => {
  for (const [name, fields] of Object.entries(FILTERS)) {
    for (const before of [undefined, "1000000"]) {
      it(`pages by ${name} on an index (${before ? "a later page" : "the first page"})`, () => {
        const query = runPageQuery({ ...NONE, ...fields, before });
        const lines = plan(query.sql, query.params);
        expect(lines.some((line) => line.startsWith("SEARCH task_run"))).toBe(true);
        expect(scans(lines)).toEqual([]);
        if (IN_SEQ_ORDER.has(name)) expect(lines.filter((line) => line.includes("TEMP B-TREE"))).toEqual([]);
        expect(scans(plan(query.countSql, query.countParams))).toEqual([]);
      });
    }
  }
});

describe("the runs list on PostgreSQL", () => {
  let client: pg.Client;

  beforeAll(async () => {
    const url = await postgres.newSchema();
    await (await createPostgresStore({ connectionString: url })).close();
    client = new pg.Client({ connectionString: url });
    await client.connect();
    // The table is empty, where a scan of it is as cheap as anything: priced out, a
    // sequential scan is left only where no index can serve the filter.
    await client.query("SET enable_seqscan = off");
  });

  afterAll(async () => {
    await client?.end();
  });

  async function explain(sql: string, params: unknown[]): Promise<string[]> {
    const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
    return rows.map((row) => row["QUERY PLAN"]);
  }

  for (const [name, fields] of Object.entries(FILTERS)) {
    for (const before of [undefined, "1000000"]) {
      it(`pages by ${name} on an index (${before ? "a later page" : "the first page"})`, async () => {
        const query = postgresRunPageQuery({ ...NONE, ...fields, before });
        // Priced out too for one value: with a million rows and a page of 50 the index in
        // seq order wins; on an empty table sorting the few rows it expects costs nothing.
        await client.query(`SET enable_sort = ${IN_SEQ_ORDER.has(name) ? "off" : "on"}`);
        const lines = await explain(query.sql, query.params);
        if (process.env.SHOW_PLANS) console.log(name, before, lines.join("\n"));
        // The primary key read in seq order would filter its way through every newer run;
        // looked up by seq, row by row, it is how a join reaches the tag table's runs.
        expect(lines.some((line) => /Index (Only )?Scan .*(using|on) (?!task_runs_pkey)/.test(line))).toBe(true);
        expect(lines.filter((line) => /Seq Scan|Scan Backward using task_runs_pkey/.test(line))).toEqual([]);
        if (IN_SEQ_ORDER.has(name)) expect(lines.filter((line) => /Sort/.test(line))).toEqual([]);
        const counted = await explain(query.countSql, query.countParams);
        expect(counted.filter((line) => /Seq Scan/.test(line))).toEqual([]);
      });
    }
  }
});
