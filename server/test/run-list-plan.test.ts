import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListFilter } from "../src/store/store.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { runPageQuery } from "../src/store/sqlite-run-queries.js";

// The runs list pages under every filter of the Runs page on an index: a filter matching
// ten runs of a million must not walk the table's million rows to fill its page. The plan
// is what SQLite says it will do (EXPLAIN QUERY PLAN) on a database the store migrated.

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
