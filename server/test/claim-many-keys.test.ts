import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { emptyBatch, type NewRun, type Store } from "../src/store/store.js";
import { usePostgres } from "./support/postgres-database.js";
import { queuedRun } from "./support/queued-run.js";

const postgres = usePostgres();
const NOW = Date.UTC(2026, 10, 29);
/** A worker serving 10,000 task keys (ten streams of 1,000 on one server commit together). */
const KEYS = Array.from({ length: 10_000 }, (_, i) => `k-${i}`);

/** Every better-sqlite3 statement executed in this process, counted at the prototype. */
const sqliteCalls = { count: 0 };
{
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ["all", "get", "run", "iterate"]) {
    const original = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      sqliteCalls.count += 1;
      return original.apply(this, args);
    };
  }
  probe.close();
}

/** The key arrays the PostgreSQL claim statement (the one that ranks and locks runs) was given. */
const postgresClaimKeys: string[][] = [];
{
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as { name?: string; values?: unknown[] } | undefined;
    if (config?.name === "taskwire_claim") postgresClaimKeys.push(config.values?.[0] as string[]);
    return original.apply(this, args);
  };
}

function newRun(taskKey: string): NewRun {
  return queuedRun(taskKey, NOW);
}

async function insert(store: Store, keys: string[]): Promise<void> {
  const batch = emptyBatch();
  batch.inserts.push(...keys.map(newRun));
  await store.commit(batch);
}

async function claim(store: Store, taskKeys: string[], max: number): Promise<string[]> {
  const batch = emptyBatch();
  batch.claims.push({ taskKeys, max, workerId: "w1", now: NOW });
  return (await store.commit(batch)).claimed[0].map((run) => run.taskKey);
}

describe("a claim for a worker serving 10,000 task keys", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function sqliteStore(): Promise<Store> {
    const dir = mkdtempSync(join(tmpdir(), "taskwire-many-keys-"));
    const store = createSqliteStore({ path: join(dir, "taskwire.db") });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }

  async function postgresStore(): Promise<Store> {
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    cleanups.push(() => store.close());
    return store;
  }

  it("on SQLite runs statements for the 3 keys with runs due, not for the 10,000", async () => {
    const store = await sqliteStore();
    await insert(store, ["k-100", "k-100", "k-5000", "k-5000", "k-9999", "k-9999"]);
    const before = sqliteCalls.count;
    const claimed = await claim(store, KEYS, 10);
    const statements = sqliteCalls.count - before;
    expect(claimed).toEqual(["k-100", "k-5000", "k-9999", "k-100", "k-5000", "k-9999"]);
    // One to find the due keys, one SELECT per due key, the UPDATE, six history rows and
    // the commit's own statements: a few dozen at most, where one per key was 10,000.
    expect(statements).toBeLessThan(40);
  });

  it("on PostgreSQL ranks and locks runs of the 3 keys with runs due, not of the 10,000", async () => {
    const store = await postgresStore();
    await insert(store, ["k-100", "k-100", "k-5000", "k-5000", "k-9999", "k-9999"]);
    postgresClaimKeys.length = 0;
    const claimed = await claim(store, KEYS, 10);
    expect(claimed).toEqual(["k-100", "k-5000", "k-9999", "k-100", "k-5000", "k-9999"]);
    expect(postgresClaimKeys).toEqual([["k-100", "k-5000", "k-9999"]]);
  });

  for (const [name, make] of [
    ["SQLite", sqliteStore],
    ["PostgreSQL", postgresStore],
  ] as const) {
    it(`on ${name} still takes keys in the request's order, one run each before a second`, async () => {
      const store = await make();
      await insert(store, ["k-7", "k-7", "k-3", "k-3", "k-8000", "k-8000", "k-9", "k-9"]);
      // The request's order is the worker's rotation: k-3 comes before k-7 here, k-8000 after.
      const rotated = [...KEYS.slice(3), ...KEYS.slice(0, 3)];
      expect(await claim(store, rotated, 2)).toEqual(["k-3", "k-7"]);
      expect(await claim(store, rotated, 3)).toEqual(["k-3", "k-7", "k-9"]);
      expect(await claim(store, rotated, 10)).toEqual(["k-9", "k-8000", "k-8000"]);
      expect(await claim(store, rotated, 10)).toEqual([]);
    });

    it(`on ${name} names the keys it passed over with nothing due, so the dispatcher can skip them`, async () => {
      const store = await make();
      await insert(store, ["k-2", "k-5", "k-9"]);
      const noneDue: string[] = [];
      const batch = emptyBatch();
      batch.claims.push({ taskKeys: KEYS, max: 2, workerId: "w1", now: NOW, noneDue: (keys) => noneDue.push(...keys) });
      const [claimed] = (await store.commit(batch)).claimed;
      expect(claimed.map((run) => run.taskKey)).toEqual(["k-2", "k-5"]);
      // Read up to k-5, the second key with a due run: the keys after it are not known dry.
      expect(noneDue).toEqual(["k-0", "k-1", "k-3", "k-4"]);
    });
  }
});
