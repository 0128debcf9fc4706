import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { emptyBatch, type NewRun, type Transition } from "../src/store/store.js";
import { usePostgres } from "./support/postgres-database.js";
import { queuedRun } from "./support/queued-run.js";

// A round trip is a flight of queries sent together: the store's connections pipeline, so
// queries sent before any answer came back share one. Counted over every connection while
// a commit runs; they must not grow with the batch.
const postgres = usePostgres();
const NOW = Date.UTC(2026, 10, 30);

function newRun(): NewRun {
  return queuedRun("k", NOW);
}

/** Counts the flights of queries sent while `commit` runs: a query sent after an answer starts one. */
async function roundTrips(commit: () => Promise<unknown>): Promise<number> {
  const original = pg.Client.prototype.query;
  let flights = 0;
  let answeredSinceSend = true;
  const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (answeredSinceSend) flights++;
    answeredSinceSend = false;
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    const answered = () => {
      answeredSinceSend = true;
    };
    if (result instanceof Promise) result.then(answered, answered);
    return result as never;
  });
  try {
    await commit();
    return flights;
  } finally {
    spy.mockRestore();
  }
}

const completion = (runId: string, attempt: number): Transition => ({
  runId,
  from: ["PENDING", "RUNNING"],
  patch: { state: "COMPLETED", endedAt: NOW + 1, result: { contentType: "application/json", data: new Uint8Array([52, 50]) } },
  events: [{ state: "COMPLETED", at: NOW + 1, attempt, message: "" }],
});

describe("PostgreSQL round trips per commit", () => {
  afterEach(() => vi.restoreAllMocks());

  it("drains in two round trips per commit, with a worker's claims of 1, 2, 4, 8, 16 and 19 runs as one statement", async () => {
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    try {
      const runs = Array.from({ length: 100 }, newRun);
      const insert = emptyBatch();
      insert.inserts.push(...runs);
      await store.commit(insert);
      const first = emptyBatch();
      first.claims.push({ taskKeys: ["k"], max: 50, workerId: "w1", now: NOW, sessionId: "s1" });
      const [leased] = (await store.commit(first)).claimed;

      // A drain commit as the dispatcher plans it: the worker's 50 results, its 50 free slots
      // asked in rounds of 1, 2, 4, 8, 16 and 19, and the change feed told.
      const drain = emptyBatch();
      drain.transitions.push(...leased.map((run) => completion(run.id, run.attempts)));
      for (const max of [1, 2, 4, 8, 16, 19]) drain.claims.push({ taskKeys: ["k"], max, workerId: "w1", now: NOW, sessionId: "s1" });
      drain.changes = { origin: "server-a", changes: { changed: leased.map((run) => run.id), due: ["k"] } };
      let result: Awaited<ReturnType<typeof store.commit>> | undefined;
      // BEGIN with the lock on the limits, the UPDATE, the count and the claim, pipelined; then
      // history + NOTIFY + COMMIT.
      expect(await roundTrips(async () => (result = await store.commit(drain)))).toBe(2);

      expect(result!.applied).toEqual(leased.map(() => true));
      expect(result!.claimed.map((claimed) => claimed.length)).toEqual([1, 2, 4, 8, 16, 19]);
      const second = result!.claimed.flat();
      expect(new Set([...leased, ...second].map((run) => run.id)).size).toBe(100);
      expect(await store.countByState()).toEqual({ COMPLETED: 50, PENDING: 50 });
      expect((await store.getHistory(second[0].id)).map((h) => h.state)).toEqual(["SCHEDULED", "PENDING"]);
      expect((await store.getHistory(leased[0].id)).map((h) => h.state)).toEqual(["SCHEDULED", "PENDING", "COMPLETED"]);
    } finally {
      await store.close();
    }
  });

  it("stores a new run and hands it to a waiting worker in two round trips (a W2 commit)", async () => {
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    try {
      const batch = emptyBatch();
      const run = newRun();
      batch.inserts.push(run);
      batch.claims.push({ taskKeys: ["k"], max: 50, workerId: "w1", now: NOW, sessionId: "s1" });
      let result: Awaited<ReturnType<typeof store.commit>> | undefined;
      // BEGIN with the lock, the INSERT, the count and the claim (which sees the run its own
      // transaction inserted), pipelined; then history + NOTIFY + COMMIT.
      expect(await roundTrips(async () => (result = await store.commit(batch)))).toBe(2);
      expect(result!.inserted).toEqual([{ id: run.record.id, existing: false }]);
      expect(result!.claimed[0].map((claimed) => claimed.id)).toEqual([run.record.id]);
      expect((await store.getHistory(run.record.id)).map((h) => h.state)).toEqual(["SCHEDULED", "PENDING"]);
    } finally {
      await store.close();
    }
  });

  it("commits a batch of results alone in one round trip, history and notification included", async () => {
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    try {
      const insert = emptyBatch();
      insert.inserts.push(...Array.from({ length: 20 }, newRun));
      await store.commit(insert);
      const claim = emptyBatch();
      claim.claims.push({ taskKeys: ["k"], max: 20, workerId: "w1", now: NOW });
      const [leased] = (await store.commit(claim)).claimed;
      const heard: string[] = [];
      const unsubscribe = await store.changeFeed.subscribe("server-b", (changes) => heard.push(...(changes.changed ?? [])));
      try {
        const results = emptyBatch();
        results.transitions.push(...leased.map((run) => completion(run.id, run.attempts)));
        results.transitions.push(completion("no-such-run", 1));
        results.changes = { origin: "server-a", changes: { changed: leased.map((run) => run.id) } };
        let applied: boolean[] = [];
        expect(await roundTrips(async () => (applied = (await store.commit(results)).applied))).toBe(1);
        expect(applied).toEqual([...leased.map(() => true), false]);
        expect((await store.getHistory(leased[3].id)).map((h) => h.state)).toEqual(["SCHEDULED", "PENDING", "COMPLETED"]);
        await vi.waitFor(() => expect(heard).toHaveLength(leased.length));
      } finally {
        await unsubscribe();
      }
    } finally {
      await store.close();
    }
  });
});
