import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type Broker, createBroker } from "../src/broker/broker.js";
import { runFromSpec } from "../src/rpc/run-codec.js";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { DEFAULT_LIMITS } from "../src/broker/broker-limits.js";
import { emptyBatch, type Store } from "../src/store/store.js";
import { usePostgres } from "./support/postgres-database.js";
import { eventually } from "./support/test-server.js";

// Expired leases are re-queued by one statement, however many they are: a pass over 1,000
// leases of a dead server writes the runs with one UPDATE, never one per run.
const postgres = usePostgres();
const logger = pino({ level: "silent" });
const RUNS = 1_000;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 1,000 runs leased by server "dead", whose leases ran out a second ago. */
async function leasedByDeadServer(store: Store): Promise<string[]> {
  const now = Date.now();
  const batch = emptyBatch();
  for (let i = 0; i < RUNS; i++) {
    batch.inserts.push(runFromSpec({ taskKey: "k" }, "run", DEFAULT_LIMITS, now - 2_000));
  }
  await store.commit(batch);
  const claim = emptyBatch();
  claim.claims.push({ taskKeys: ["k"], max: RUNS, workerId: "w", now, serverId: "dead", sessionId: "dead-session", leaseDeadline: now - 1_000 });
  const [claimed] = (await store.commit(claim)).claimed;
  expect(claimed).toHaveLength(RUNS);
  return claimed.map((run) => run.id);
}

function startBroker(store: Store, serverId: string): Broker {
  const broker = createBroker({ store, logger, serverId });
  cleanups.push(() => broker.close(0));
  return broker;
}

async function allScheduled(store: Store): Promise<boolean> {
  return (await store.countByState()).SCHEDULED === RUNS;
}

/** Each run was redelivered once, with one history row saying so. */
async function expectRequeuedOnce(store: Store, ids: string[]): Promise<void> {
  const runs = await store.getRuns(ids);
  expect(runs.map((run) => [run.state, run.redeliveries, run.leaseToken])).toEqual(ids.map(() => ["SCHEDULED", 1, undefined]));
  for (const id of ids) {
    const requeued = (await store.getHistory(id)).filter((h) => h.message.startsWith("requeued:"));
    expect(requeued.map((h) => h.message)).toEqual(["requeued: not acknowledged within 15000 ms (server dead)"]);
  }
}

describe("lease expiry", () => {
  it("re-queues 1,000 expired leases on SQLite with one UPDATE (and one INSERT of their history)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskwire-expiry-"));
    const store = createSqliteStore({ path: join(dir, "taskwire.db") });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const ids = await leasedByDeadServer(store);
    // Every statement better-sqlite3 runs from here on: its SQL, and the rows it returned.
    const statement = Object.getPrototypeOf(store.database.prepare("SELECT 1")) as Record<string, (...args: unknown[]) => unknown>;
    const executed: { sql: string; rows: number }[] = [];
    for (const method of ["run", "all", "get"]) {
      const original = statement[method];
      statement[method] = function (this: { source: string }, ...args: unknown[]) {
        const result = original.apply(this, args);
        executed.push({ sql: this.source, rows: Array.isArray(result) ? result.length : result === undefined ? 0 : 1 });
        return result;
      };
      cleanups.push(() => {
        statement[method] = original;
      });
    }
    startBroker(store, "live");
    await eventually(() => allScheduled(store));
    // A full pass is followed by another at once, which finds nothing and updates nothing.
    const updates = executed.filter(({ sql }) => /UPDATE task_runs/.test(sql));
    expect(updates.map(({ rows }) => rows)).toEqual([RUNS]);
    const history = executed.filter(({ sql }) => /INSERT INTO task_run_events/.test(sql));
    expect(history.filter(({ rows }) => rows > 0).map(({ rows }) => rows)).toEqual([RUNS]);
    await expectRequeuedOnce(store, ids);
  });

  it("re-queues 1,000 expired leases on PostgreSQL with one statement that also writes their history", async () => {
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    cleanups.push(() => store.close());
    const ids = await leasedByDeadServer(store);
    // Every query node-postgres sends from here on: its SQL, and the rows it changed.
    const executed: { sql: string; rows: Promise<number> }[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const [query] = args as [string | { text?: string }];
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      const rows = result instanceof Promise ? result.then((r: pg.QueryResult) => r.rowCount ?? 0, () => 0) : Promise.resolve(0);
      executed.push({ sql: typeof query === "string" ? query : (query?.text ?? ""), rows });
      return result;
    } as typeof original;
    cleanups.push(() => {
      pg.Client.prototype.query = original;
    });
    startBroker(store, "live");
    await eventually(() => allScheduled(store));
    const writes = executed.filter(({ sql }) => /UPDATE task_runs|INSERT INTO task_run_events/.test(sql));
    // Each pass is one statement that re-queues and writes the history; a full pass is
    // followed by another at once, which finds nothing.
    for (const { sql } of writes) expect(sql).toMatch(/UPDATE task_runs[\s\S]*INSERT INTO task_run_events/);
    expect((await Promise.all(writes.map(({ rows }) => rows))).filter((n) => n > 0)).toEqual([RUNS]);
    await expectRequeuedOnce(store, ids);
  });

  it("re-queues each run once when two servers on one PostgreSQL expire the same leases at once", async () => {
    const url = await postgres.newSchema();
    const stores = [await createPostgresStore({ connectionString: url }), await createPostgresStore({ connectionString: url })];
    cleanups.push(() => stores[0].close(), () => stores[1].close());
    const ids = await leasedByDeadServer(stores[0]);
    // Both start at once, and each begins with a pass over the leases that ran out.
    const brokers = [startBroker(stores[0], "live-a"), startBroker(stores[1], "live-b")];
    await Promise.all(brokers.map((broker) => broker.ready()));
    await eventually(() => allScheduled(stores[0]));
    await expectRequeuedOnce(stores[1], ids);
  });

  it("ends this server's own lease when the statement re-queues it: the worker is told, its slot freed, a waiting future told", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskwire-expiry-"));
    const store = createSqliteStore({ path: join(dir, "taskwire.db") });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const broker = createBroker({ store, logger, limits: { ackTimeoutMs: 200, leaseDurationMs: 1_000, heartbeatIntervalMs: 100 } });
    cleanups.push(() => broker.close(0));
    const run = runFromSpec({ taskKey: "k" }, "run", broker.limits, Date.now());
    run.record.options.maxRedeliveries = 1;
    const [{ id }] = await broker.schedule([run]);
    const final = broker.waitForFinal(id, 20_000);
    // Two workers that never acknowledge: the run is lost twice, once more than allowed.
    const cancels: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const assigned: string[] = [];
      cancels.push([]);
      broker.connectWorker(
        { workerId: `w${i}`, taskKeys: ["k"], limit: 1 },
        { assign: (runs) => assigned.push(...runs.map((r) => r.run.id)), ack: () => {}, cancel: (ids, reason) => cancels[i].push(`${ids.join()}: ${reason}`), drain: () => {}, unsentBytes: 0 },
      );
      await eventually(() => assigned.length === 1);
      await eventually(() => cancels[i].length === 1);
      expect(cancels[i]).toEqual([`${id}: not acknowledged within 200 ms`]);
    }
    const failed = await final;
    expect(failed).toMatchObject({ state: "FAILED", redeliveries: 2, error: { type: "MaxRedeliveriesExceeded" } });
    expect(failed.error?.message).toMatch(/^the run was lost 2 times \(max_redeliveries 1\); last: not acknowledged within 200 ms \(server /);
    expect(broker.stats().runsLeased).toBe(0);
  });
});
