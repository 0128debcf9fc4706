import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBroker, DEFAULT_LIMITS, type LeasedRun } from "../src/broker/broker.js";
import { runFromSpec } from "../src/rpc/run-codec.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { emptyBatch, type RunRecord, type Store } from "../src/store/store.js";
import { eventually, startTestServer } from "./support/test-server.js";

// Reads that fail as SQLite fails them when another process holds the database past the
// busy timeout. Nothing awaits some of these reads (a flush started from setImmediate, the
// wake-up timer): an error left in their promises is an unhandled rejection, which ends
// a server process. Each test counts those, and checks the work is done anyway.
const busy = () => new Database.SqliteError("database is locked", "SQLITE_BUSY");
const silent = pino({ level: "silent" });

type ReadMethod = "getRuns" | "nextScheduledAt";

/** A real SQLite store whose reads fail on demand. */
function faultyStore(path: string) {
  const real = createSqliteStore({ path });
  const failures = new Map<ReadMethod, number>();
  let failAfterCommit: ReadMethod | undefined;
  const failIfAsked = (method: ReadMethod) => {
    const left = failures.get(method) ?? 0;
    if (left === 0) return;
    failures.set(method, left - 1);
    throw busy();
  };
  const store: Store = {
    ...real,
    location: real.location,
    async commit(batch) {
      const result = await real.commit(batch);
      if (failAfterCommit) failures.set(failAfterCommit, 1);
      failAfterCommit = undefined;
      return result;
    },
    async getRuns(ids) {
      failIfAsked("getRuns");
      return real.getRuns(ids);
    },
    async nextScheduledAt(now) {
      failIfAsked("nextScheduledAt");
      return real.nextScheduledAt(now);
    },
  };
  return {
    store,
    real,
    failNext: (method: ReadMethod) => failures.set(method, 1),
    failuresLeft: (method: ReadMethod) => failures.get(method) ?? 0,
    /** The first read of this kind after the next commit fails. */
    failFirstAfterNextCommit: (method: ReadMethod) => (failAfterCommit = method),
  };
}

/** A clock the test moves by hand: runs become due when it says so. */
function manualClock(start: number) {
  let at = start;
  return { now: () => at, set: (value: number) => (at = value) };
}

function workerChannel(assigned: LeasedRun[]) {
  return { assign: (runs: LeasedRun[]) => assigned.push(...runs), ack: () => {}, cancel: () => {}, drain: () => {}, unsentBytes: 0 };
}

let home: string;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "taskwire-read-faults-"));
  rejections.length = 0;
  process.on("unhandledRejection", onRejection);
});

afterEach(() => {
  process.off("unhandledRejection", onRejection);
  rmSync(home, { recursive: true, force: true });
});

describe("a store read that fails", () => {
  it("after a commit: the watcher still gets the change, from a later read, and nothing crashes", async () => {
    const faults = faultyStore(join(home, "taskwire.db"));
    const broker = createBroker({ store: faults.store, logger: silent });
    const [{ id }] = await broker.schedule([runFromSpec({ taskKey: "nobody-serves-this" }, "run", broker.limits, Date.now())]);
    const seen: RunRecord[] = [];
    await broker.watch({ finalOnly: false, deliver: (runs) => seen.push(...runs) }, [id]);
    // A cancelled SCHEDULED run is read back for its watchers: that read fails once.
    faults.failFirstAfterNextCommit("getRuns");
    expect((await broker.cancel(id)).state).toBe("CANCELLED");
    const cancelled = await eventually(() => seen.find((run) => run.state === "CANCELLED"));
    expect(cancelled.id).toBe(id);
    expect(rejections).toEqual([]);
    await broker.close(0);
    faults.real.close();
  });

  it("at start-up: a run scheduled for later is still handed out when due", async () => {
    const start = Date.now();
    const clock = manualClock(start);
    const faults = faultyStore(join(home, "taskwire.db"));
    // Stored by an earlier server, due a minute from now.
    const run = runFromSpec({ taskKey: "later" }, "run", DEFAULT_LIMITS, start + 60_000);
    await faults.real.commit({ ...emptyBatch(), inserts: [run] });
    faults.failNext("nextScheduledAt");
    const broker = createBroker({ store: faults.store, logger: silent, clock: clock.now });
    const assigned: LeasedRun[] = [];
    broker.connectWorker({ workerId: "w", taskKeys: ["later"], limit: 1 }, workerChannel(assigned));
    // The worker's first claim comes before the run is due; then only the timer can find it.
    await eventually(() => broker.stats().commitsTotal > 0);
    expect(assigned).toEqual([]);
    clock.set(start + 60_000);
    const lease = await eventually(() => assigned[0]);
    expect(lease.run.id).toBe(run.record.id);
    expect(rejections).toEqual([]);
    await broker.close(0);
    faults.real.close();
  });

  it("when the wake-up timer fires: the next run scheduled for later is still handed out when due", async () => {
    const start = Date.now();
    const clock = manualClock(start);
    const faults = faultyStore(join(home, "taskwire.db"));
    const second = runFromSpec({ taskKey: "later" }, "run", DEFAULT_LIMITS, start + 2_000);
    await faults.real.commit({ ...emptyBatch(), inserts: [second] });
    const broker = createBroker({ store: faults.store, logger: silent, clock: clock.now });
    const assigned: LeasedRun[] = [];
    broker.connectWorker({ workerId: "w", taskKeys: ["later"], limit: 2 }, workerChannel(assigned));
    faults.failNext("nextScheduledAt");
    // The first run sets the timer 1 s ahead, then is due at once and handed out; the timer
    // fires still, and its read of the next run due (the second) fails.
    const scheduled = broker.schedule([runFromSpec({ taskKey: "later" }, "run", DEFAULT_LIMITS, start + 1_000)]);
    clock.set(start + 1_000);
    const [first] = await scheduled;
    expect((await eventually(() => assigned[0])).run.id).toBe(first.id);
    const commits = broker.stats().commitsTotal;
    // The timer fired: its read failed and its dispatch (which found nothing due) committed.
    await eventually(() => faults.failuresLeft("nextScheduledAt") === 0 && broker.stats().commitsTotal > commits);
    // Before the first lease's ack deadline (15 s), so nothing else wakes the broker.
    clock.set(start + 10_000);
    expect((await eventually(() => assigned[1])).run.id).toBe(second.record.id);
    expect(rejections).toEqual([]);
    await broker.close(0);
    faults.real.close();
  });
});

describe("/metrics when the store cannot be read", () => {
  it("answers 500 naming the error, and the server stays up", async () => {
    const { server, stop } = await startTestServer();
    try {
      const countByState = server.store.countByState;
      server.store.countByState = () => {
        server.store.countByState = countByState;
        return Promise.reject(busy());
      };
      // A guard against the hang of a response whose header went out before the failure.
      const failed = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(20_000) });
      expect(failed.status).toBe(500);
      expect(await failed.text()).toMatch(/could not read from the store: database is locked/);
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/taskwire_task_runs\{state="SCHEDULED"\} 0/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(rejections).toEqual([]);
    } finally {
      await stop();
    }
  });
});
