import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import { emptyBatch, type NewRun, type RunRecord, type Store, type Transition } from "../src/store/store.js";
import { json } from "./support/json-payload.js";
import { usePostgres } from "./support/postgres-database.js";
import { queuedRun } from "./support/queued-run.js";

const postgres = usePostgres();

/**
 * The store contract, as one suite every store implementation must pass: SQLite in a
 * file of its own, PostgreSQL in a schema of its own per test.
 */
const stores: [string, () => Promise<{ store: Store; cleanup(): void }>][] = [
  [
    "SQLite file",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "taskwire-store-"));
      return { store: createSqliteStore({ path: join(dir, "taskwire.db") }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    "PostgreSQL",
    async () => ({ store: await createPostgresStore({ connectionString: await postgres.newSchema() }), cleanup: () => {} }),
  ],
];

const NOW = Date.UTC(2026, 10, 24);

function newRun(taskKey: string, over: Partial<RunRecord> = {}, options: Partial<RunRecord["options"]> = {}): NewRun {
  return queuedRun(taskKey, NOW, over, options);
}

async function insert(store: Store, ...runs: NewRun[]) {
  const batch = emptyBatch();
  batch.inserts.push(...runs);
  return (await store.commit(batch)).inserted;
}

async function claim(store: Store, taskKeys: string[], max: number, now = NOW, excludeTags: string[] = []) {
  const batch = emptyBatch();
  batch.claims.push({ taskKeys, max, workerId: "w1", now, excludeTags });
  return (await store.commit(batch)).claimed[0];
}

for (const [name, make] of stores) {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => void;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await store.close();
      cleanup();
    });

    it("stores runs and reads them back as written", async () => {
      const run = newRun("greet", {}, { tags: ["a"], retryDelaySeconds: [1, 2] });
      await insert(store, run);
      const [read] = await store.getRuns([run.record.id]);
      expect(read).toMatchObject({ id: run.record.id, taskKey: "greet", state: "SCHEDULED", options: run.record.options });
      expect(new TextDecoder().decode(read.parameters.data)).toBe('{"args":[],"kwargs":{}}');
      expect(await store.getHistory(run.record.id)).toEqual([{ state: "SCHEDULED", at: NOW, attempt: 0, message: "" }]);
    });

    it("keeps payload bytes exactly, and reads runs back in the order asked", async () => {
      const bytes = new Uint8Array([0, 255, 92, 34, 123, 44, 10, 0x80]);
      const a = newRun("k", { parameters: { contentType: "application/octet-stream", data: bytes } });
      const b = newRun("k");
      await insert(store, a, b);
      const batch = emptyBatch();
      batch.transitions.push({
        runId: a.record.id,
        from: ["SCHEDULED"],
        patch: { state: "COMPLETED", endedAt: NOW, result: { contentType: "application/octet-stream", data: bytes.slice().reverse() } },
        events: [],
      });
      await store.commit(batch);
      const read = await store.getRuns([b.record.id, "no-such-run", a.record.id]);
      expect(read.map((r) => r.id)).toEqual([b.record.id, a.record.id]);
      expect([...read[1].parameters.data]).toEqual([...bytes]);
      expect(read[1].parameters.contentType).toBe("application/octet-stream");
      expect([...(read[1].result?.data ?? [])]).toEqual([...bytes].reverse());
    });

    it("returns the first run for a second insert with the same idempotency key", async () => {
      const first = newRun("pay", {}, { idempotencyKey: "order-1" });
      const second = newRun("pay", {}, { idempotencyKey: "order-1" });
      const other = newRun("refund", {}, { idempotencyKey: "order-1" });
      expect(await insert(store, first, second, other)).toEqual([
        { id: first.record.id, existing: false },
        { id: first.record.id, existing: true },
        { id: other.record.id, existing: false },
      ]);
    });

    it("claims due runs by priority, then scheduled time, and never a run twice", async () => {
      const low = newRun("k", {}, { priority: 0 });
      const high = newRun("k", {}, { priority: 5 });
      const later = newRun("k", { scheduledAt: NOW + 60_000 });
      await insert(store, low, high, later);
      const claimed = await claim(store, ["k"], 10);
      expect(claimed.map((r) => r.id)).toEqual([high.record.id, low.record.id]);
      expect(claimed.every((r) => r.state === "PENDING" && r.attempts === 1 && r.workerId === "w1")).toBe(true);
      expect(await claim(store, ["k"], 10)).toEqual([]);
      expect((await claim(store, ["k"], 10, NOW + 60_000)).map((r) => r.id)).toEqual([later.record.id]);
    });

    it("interleaves the keys of one claim", async () => {
      await insert(store, ...["a", "a", "a", "b", "b", "b"].map((key) => newRun(key)));
      expect((await claim(store, ["a", "b"], 4)).map((r) => r.taskKey)).toEqual(["a", "b", "a", "b"]);
    });

    it("leaves runs of a saturated tag queued", async () => {
      await insert(store, newRun("k", {}, { tags: ["db"] }), newRun("k"));
      const claimed = await claim(store, ["k"], 10, NOW, ["db"]);
      expect(claimed.map((r) => r.options.tags)).toEqual([[]]);
    });

    it("stores one run for an idempotency key sent at once through several connections (servers)", async () => {
      const tries = Array.from({ length: 4 }, () => newRun("pay", {}, { idempotencyKey: "order-once" }));
      const answers = (await Promise.all(tries.map((run) => insert(store, run)))).flat();
      const ids = new Set(answers.map((a) => a.id));
      expect(ids.size).toBe(1);
      expect(answers.filter((a) => !a.existing)).toHaveLength(1);
      expect((await store.listRuns({ taskKeys: ["pay"], states: [], tag: "", limit: 10 })).runs).toHaveLength(1);
    });

    it("returns the stored run for an idempotency key committed earlier", async () => {
      const first = newRun("pay", {}, { idempotencyKey: "order-2" });
      await insert(store, first);
      const again = newRun("pay", {}, { idempotencyKey: "order-2" });
      expect(await insert(store, again)).toEqual([{ id: first.record.id, existing: true }]);
      expect(await store.getRuns([again.record.id])).toEqual([]);
      expect(await store.getHistory(first.record.id)).toHaveLength(1);
    });

    it("leaves a run that admit refuses queued exactly as it was", async () => {
      const tagged = newRun("k", {}, { tags: ["gpu"] });
      const plain = newRun("k");
      await insert(store, tagged, plain);
      const batch = emptyBatch();
      batch.claims.push({ taskKeys: ["k"], max: 10, workerId: "w1", now: NOW, admit: (run) => !run.options.tags.includes("gpu") });
      const [claimed] = (await store.commit(batch)).claimed;
      expect(claimed.map((r) => r.id)).toEqual([plain.record.id]);
      const [left] = await store.getRuns([tagged.record.id]);
      expect(left).toMatchObject({ state: "SCHEDULED", attempts: 0 });
      expect(left.workerId).toBeUndefined();
      expect(await store.getHistory(tagged.record.id)).toHaveLength(1);
      expect((await claim(store, ["k"], 10)).map((r) => [r.id, r.attempts])).toEqual([[tagged.record.id, 1]]);
    });

    it("gives the claims of one commit what the earlier ones left", async () => {
      const runs = [newRun("k"), newRun("k"), newRun("k")];
      await insert(store, ...runs);
      const batch = emptyBatch();
      batch.claims.push({ taskKeys: ["k"], max: 2, workerId: "w1", now: NOW }, { taskKeys: ["k"], max: 2, workerId: "w2", now: NOW });
      const [first, second] = (await store.commit(batch)).claimed;
      expect(first.map((r) => r.id)).toEqual(runs.slice(0, 2).map((r) => r.record.id));
      expect(second.map((r) => [r.id, r.workerId])).toEqual([[runs[2].record.id, "w2"]]);
    });

    it("gives a later claim of one commit the runs an earlier one turned away", async () => {
      const runs = [newRun("k"), newRun("k")];
      await insert(store, ...runs);
      const batch = emptyBatch();
      // The first worker's budget refuses every run: the second, claiming after it, gets them.
      batch.claims.push(
        { taskKeys: ["k"], max: 2, workerId: "w1", now: NOW, admit: () => false },
        { taskKeys: ["k"], max: 2, workerId: "w2", now: NOW },
      );
      const { claimed, limited } = await store.commit(batch);
      expect(claimed.map((c) => c.length)).toEqual([0, 2]);
      expect(claimed[1].map((r) => r.workerId)).toEqual(["w2", "w2"]);
      expect(limited[1]).toBe(false);
      expect(await store.countByState()).toEqual({ PENDING: 2 });
    });

    it("never claims a run twice when commits run at once", async () => {
      const runs = Array.from({ length: 20 }, () => newRun("k"));
      await insert(store, ...runs);
      const claims = await Promise.all(Array.from({ length: 4 }, () => claim(store, ["k"], 8)));
      const ids = claims.flat().map((r) => r.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
      expect(await store.countByState()).toEqual({ PENDING: 20 });
    });

    it("sets only the fields a transition names, and clears those it sets to nothing", async () => {
      await insert(store, newRun("k"));
      const [claimed] = await claim(store, ["k"], 1);
      const batch = emptyBatch();
      batch.transitions.push({
        runId: claimed.id,
        from: ["PENDING"],
        patch: { state: "SCHEDULED", workerId: undefined, redeliveries: 1, scheduledAt: NOW + 1_000 },
        events: [{ state: "SCHEDULED", at: NOW + 1, attempt: 1, message: "worker lost" }],
      });
      expect((await store.commit(batch)).applied).toEqual([true]);
      const [read] = await store.getRuns([claimed.id]);
      expect(read).toMatchObject({ state: "SCHEDULED", attempts: 1, redeliveries: 1, scheduledAt: NOW + 1_000, retriesUsed: 0 });
      expect(read.workerId).toBeUndefined();
      expect((await store.getHistory(claimed.id)).at(-1)).toEqual({ state: "SCHEDULED", at: NOW + 1, attempt: 1, message: "worker lost" });
    });

    it("keeps log lines in order and reads them after a time", async () => {
      const run = newRun("k");
      run.logs = [{ runId: run.record.id, at: NOW, level: "info", message: "first", attempt: 0 }];
      await insert(store, run);
      const batch = emptyBatch();
      batch.logs.push(
        { runId: run.record.id, at: NOW + 2, level: "error", message: "third", attempt: 1 },
        { runId: run.record.id, at: NOW + 1, level: "info", message: "second", attempt: 1 },
      );
      await store.commit(batch);
      expect((await store.listLogs(run.record.id, 0, 10)).map((l) => l.message)).toEqual(["first", "second", "third"]);
      expect(await store.listLogs(run.record.id, NOW + 1, 10)).toEqual([
        { runId: run.record.id, at: NOW + 2, level: "error", message: "third", attempt: 1 },
      ]);
      // Followed in the order stored, page by page, whatever the lines' times.
      const followed = await store.followLogs(run.record.id, -1, 0, 2);
      expect(followed.map((l) => l.message)).toEqual(["first", "third"]);
      const rest = await store.followLogs(run.record.id, -1, followed[1].seq, 2);
      expect(rest.map((l) => l.message)).toEqual(["second"]);
      expect(rest[0].seq).toBeGreaterThan(followed[1].seq);
      expect((await store.followLogs(run.record.id, NOW, 0, 10)).map((l) => l.message)).toEqual(["third", "second"]);
    });

    it("stores a log line with a lone surrogate or a NUL (as a client may send them) and goes on committing", async () => {
      const run = newRun("k");
      await insert(store, run);
      const batch = emptyBatch();
      batch.logs.push(
        { runId: run.record.id, at: NOW + 1, level: "info", message: "a\ud800b", attempt: 1 },
        { runId: run.record.id, at: NOW + 2, level: "info", message: "x\u0000y", attempt: 1 },
      );
      await store.commit(batch);
      const lines = (await store.listLogs(run.record.id, 0, 10)).map((l) => l.message);
      expect(lines[0]).toMatch(/^a\ufffd+b$/);
      expect(lines[1]).toMatch(/^x[\u0000\ufffd]y$/);
      const next = emptyBatch();
      next.logs.push({ runId: run.record.id, at: NOW + 3, level: "info", message: "after", attempt: 1 });
      await store.commit(next);
      expect((await store.listLogs(run.record.id, 0, 10)).map((l) => l.message).at(-1)).toBe("after");
    });

    it("applies a transition only from the states it names, with its history rows", async () => {
      const run = newRun("k");
      await insert(store, run);
      const [claimed] = await claim(store, ["k"], 1);
      const complete: Transition = {
        runId: claimed.id,
        from: ["PENDING", "RUNNING"],
        patch: { state: "COMPLETED", endedAt: NOW + 5, result: json(42) },
        events: [
          { state: "RUNNING", at: NOW + 1, attempt: 1, message: "" },
          { state: "COMPLETED", at: NOW + 5, attempt: 1, message: "" },
        ],
      };
      const batch = emptyBatch();
      batch.transitions.push(complete, { ...complete, patch: { state: "FAILED" }, events: [] });
      expect((await store.commit(batch)).applied).toEqual([true, false]);
      const [read] = await store.getRuns([run.record.id]);
      expect(read.state).toBe("COMPLETED");
      expect(new TextDecoder().decode(read.result?.data)).toBe("42");
      expect((await store.getHistory(run.record.id)).map((h) => h.state)).toEqual(["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]);
    });

    it("writes the lease with the claim, and fences every transition by attempt and token", async () => {
      const run = newRun("k");
      await insert(store, run);
      const batch = emptyBatch();
      batch.claims.push({ taskKeys: ["k"], max: 1, workerId: "w1", now: NOW, serverId: "s1", sessionId: "a", leaseDeadline: NOW + 15_000 });
      const [[claimed]] = (await store.commit(batch)).claimed;
      expect(claimed.leaseToken).toMatch(/^[\w-]{16}$/);
      const [read] = await store.getRuns([run.record.id]);
      expect(read).toMatchObject({ leaseToken: claimed.leaseToken, leaseServerId: "s1", leaseSessionId: "a", leaseDeadline: NOW + 15_000 });
      const start = (token: string, attempt = 1): Transition => ({
        runId: run.record.id,
        from: ["PENDING"],
        patch: { state: "RUNNING", startedAt: NOW + 1, leaseDeadline: NOW + 30_000, timeoutAt: NOW + 9_000 },
        events: [{ state: "RUNNING", at: NOW + 1, attempt: 1, message: "" }],
        lease: { attempt, token },
      });
      const stale = emptyBatch();
      stale.transitions.push(start("not-the-token"), start(claimed.leaseToken ?? "", 2));
      expect((await store.commit(stale)).applied).toEqual([false, false]);
      expect((await store.getRuns([run.record.id]))[0].state).toBe("PENDING");
      const fresh = emptyBatch();
      fresh.transitions.push(start(claimed.leaseToken ?? ""));
      expect((await store.commit(fresh)).applied).toEqual([true]);
      expect((await store.getRuns([run.record.id]))[0]).toMatchObject({ state: "RUNNING", leaseDeadline: NOW + 30_000, timeoutAt: NOW + 9_000 });
      const done = emptyBatch();
      done.transitions.push({
        runId: run.record.id,
        from: ["PENDING", "RUNNING"],
        patch: { state: "COMPLETED", endedAt: NOW + 2, result: json(1) },
        events: [],
        lease: { attempt: 1, token: claimed.leaseToken ?? "" },
      });
      expect((await store.commit(done)).applied).toEqual([true]);
      const [ended] = await store.getRuns([run.record.id]);
      expect(ended.state).toBe("COMPLETED");
      expect([ended.leaseToken, ended.leaseSessionId, ended.leaseDeadline, ended.timeoutAt]).toEqual([undefined, undefined, undefined, undefined]);
      // The same message again, as a stale worker would send it: nothing changes.
      const again = emptyBatch();
      again.transitions.push({ ...done.transitions[0], patch: { state: "FAILED" } });
      expect((await store.commit(again)).applied).toEqual([false]);
    });

    it("extends the leases a stream names in one statement, and no other stream's", async () => {
      await insert(store, newRun("k"), newRun("k"), newRun("k"));
      const batch = emptyBatch();
      batch.claims.push(
        { taskKeys: ["k"], max: 2, workerId: "w1", now: NOW, serverId: "s1", sessionId: "a", leaseDeadline: NOW + 100 },
        { taskKeys: ["k"], max: 1, workerId: "w2", now: NOW, serverId: "s2", sessionId: "b", leaseDeadline: NOW + 100 },
      );
      const [mine, theirs] = (await store.commit(batch)).claimed;
      const tokens = mine.map((r) => r.leaseToken ?? "");
      const beat = emptyBatch();
      beat.extensions.push(
        { sessionId: "a", tokens: [...tokens, theirs[0].leaseToken ?? ""], deadline: NOW + 30_000 },
        { sessionId: "b", tokens: ["stale"], deadline: NOW + 30_000 },
      );
      const { extended } = await store.commit(beat);
      expect(extended.map((tokens) => [...tokens].sort())).toEqual([[...tokens].sort(), []]);
      const runs = await store.getRuns([...mine, ...theirs].map((r) => r.id));
      expect(runs.map((r) => r.leaseDeadline)).toEqual([NOW + 30_000, NOW + 30_000, NOW + 100]);
    });

    it("counts concurrency limits from the leased runs in the store, whichever commit (or server) claimed them", async () => {
      await store.setConcurrencyLimit({ tag: "db", limit: 2 });
      await insert(store, ...Array.from({ length: 6 }, () => newRun("k", {}, { tags: ["db"] })), newRun("k"));
      const results = await Promise.all(
        [0, 1, 2].map(async () => {
          const batch = emptyBatch();
          batch.claims.push({ taskKeys: ["k"], max: 10, workerId: "w", now: NOW });
          return store.commit(batch);
        }),
      );
      const claimed = results.flatMap((r) => r.claimed[0]);
      expect(claimed.filter((r) => r.options.tags.includes("db"))).toHaveLength(2);
      expect(claimed).toHaveLength(3);
      expect(results.some((r) => r.limited[0])).toBe(true);
      expect(await store.countConcurrency()).toEqual([{ tag: "db", limit: 2, active: 2 }]);
      const done = emptyBatch();
      const first = claimed.find((r) => r.options.tags.includes("db"));
      done.transitions.push({ runId: first?.id ?? "", from: ["PENDING"], patch: { state: "COMPLETED", endedAt: NOW }, events: [] });
      await store.commit(done);
      expect((await claim(store, ["k"], 10)).map((r) => r.options.tags)).toEqual([["db"]]);
    });

    it("records worker streams with their runs in flight and last heartbeat, and forgets dead servers' streams", async () => {
      const session = (sessionId: string, serverId: string, connectedAt: number) => ({
        sessionId,
        serverId,
        workerId: `w-${sessionId}`,
        taskKeys: ["k", "j"],
        limit: 4,
        language: "typescript",
        sdkVersion: "1.2.3",
        hostname: "host1",
        pid: 42,
        connectedAt,
      });
      await store.openWorkerSession(session("a", "s1", NOW));
      await store.openWorkerSession(session("b", "s2", NOW + 1));
      await insert(store, newRun("k"), newRun("k"));
      const batch = emptyBatch();
      batch.claims.push({ taskKeys: ["k"], max: 2, workerId: "w-a", now: NOW, serverId: "s1", sessionId: "a", leaseDeadline: NOW + 100 });
      const [claimed] = (await store.commit(batch)).claimed;
      const beat = emptyBatch();
      beat.extensions.push({ sessionId: "a", tokens: claimed.map((r) => r.leaseToken ?? ""), deadline: NOW + 30_000, at: NOW + 5 });
      await store.commit(beat);
      expect(await store.listWorkerSessions()).toEqual([
        { ...session("a", "s1", NOW), lastHeartbeatAt: NOW + 5, runsInFlight: 2 },
        { ...session("b", "s2", NOW + 1), lastHeartbeatAt: undefined, runsInFlight: 0 },
      ]);
      await store.forgetWorkerSessions(["s2"], "s1");
      expect((await store.listWorkerSessions()).map((w) => w.sessionId)).toEqual(["a"]);
      await store.closeWorkerSession("a");
      expect(await store.listWorkerSessions()).toEqual([]);
    });

    it("re-queues runs left PENDING or RUNNING by a crash", async () => {
      await insert(store, newRun("k"), newRun("k"));
      await claim(store, ["k"], 2);
      expect(await store.requeueAbandoned(NOW + 10, "all")).toBe(2);
      expect((await store.countByState()).SCHEDULED).toBe(2);
    });

    it("re-queues at start-up only leases that ran out or whose server is dead, never a live server's", async () => {
      await insert(store, ...["k", "k", "k", "k"].map((key) => newRun(key)));
      const batch = emptyBatch();
      const lease = (serverId: string, leaseDeadline: number) => ({ taskKeys: ["k"], max: 1, workerId: "w", now: NOW, serverId, sessionId: serverId, leaseDeadline });
      batch.claims.push(lease("live", NOW + 60_000), lease("live", NOW + 5), lease("dead", NOW + 60_000), lease("other-live", NOW + 60_000));
      const claimed = (await store.commit(batch)).claimed.map(([run]) => run.id);
      expect(await store.requeueAbandoned(NOW + 10, ["dead"])).toBe(2);
      const runs = await store.getRuns(claimed);
      expect(runs.map((r) => r.state)).toEqual(["PENDING", "SCHEDULED", "SCHEDULED", "PENDING"]);
      expect(runs[1].leaseToken).toBeUndefined();
    });

    const expiry = (now: number, keep: string[] = [], limit = 10) => ({
      now,
      limit,
      origin: "s",
      keep,
      ackTimeoutMs: 15_000,
      leaseDurationMs: 30_000,
      defaultMaxRedeliveries: 5,
    });
    const leaseOn = (serverId: string, leaseDeadline: number) => ({ taskKeys: ["k"], max: 1, workerId: "w", now: NOW, serverId, sessionId: serverId, leaseDeadline });

    it("re-queues expired leases and timed-out attempts in deadline order, and leaves the rest", async () => {
      await insert(store, newRun("k"), newRun("k"), newRun("k"), newRun("k"));
      const batch = emptyBatch();
      batch.claims.push(leaseOn("a", NOW + 100), leaseOn("b", NOW + 200), leaseOn("b", NOW + 60_000), leaseOn("b", NOW + 50));
      const [[early], [late], [running], [kept]] = (await store.commit(batch)).claimed;
      const start = emptyBatch();
      start.transitions.push({
        runId: running.id,
        from: ["PENDING"],
        patch: { state: "RUNNING", startedAt: NOW, timeoutAt: NOW + 150 },
        events: [],
        lease: { attempt: 1, token: running.leaseToken ?? "" },
      });
      await store.commit(start);
      expect(await store.nextLeaseDeadline("a")).toBe(NOW + 50);
      expect(await store.nextLeaseDeadline("b")).toBe(NOW + 100);
      const keep = [kept.leaseToken ?? ""];
      expect((await store.requeueExpiredLeases(expiry(NOW + 100, keep))).map((r) => r.id)).toEqual([early.id]);
      // A heartbeat moved this lease on before the pass: it stays.
      const beat = emptyBatch();
      beat.extensions.push({ sessionId: "b", tokens: [late.leaseToken ?? ""], deadline: NOW + 30_000 });
      await store.commit(beat);
      const second = await store.requeueExpiredLeases(expiry(NOW + 200, keep));
      expect(second.map((r) => r.id)).toEqual([running.id]);
      // A timed-out attempt with no retry left fails; it is no redelivery.
      expect(second[0]).toMatchObject({ state: "FAILED", redeliveries: 0, endedAt: NOW + 200, error: { type: "TimeoutError" } });
      expect(second[0].leaseToken).toBeUndefined();
      const [requeued] = await store.getRuns([early.id]);
      expect(requeued).toMatchObject({ state: "SCHEDULED", redeliveries: 1, scheduledAt: NOW + 100, attempts: 1 });
      expect(requeued.leaseToken).toBeUndefined();
      expect((await store.getHistory(early.id)).at(-1)).toEqual({
        state: "SCHEDULED",
        at: NOW + 100,
        attempt: 1,
        message: "requeued: not acknowledged within 15000 ms (server a)",
      });
      expect((await store.getRuns([late.id, kept.id])).map((r) => r.state)).toEqual(["PENDING", "PENDING"]);
      expect((await store.requeueExpiredLeases(expiry(NOW + 200))).map((r) => r.id)).toEqual([kept.id]);
    });

    it("decides each expired run in the statement: retry, max_redeliveries, cancel", async () => {
      const retried = newRun("k", {}, { retries: 2, retryDelaySeconds: [2, 4], timeoutSeconds: 0.5 });
      const poison = newRun("k", { redeliveries: 2 }, { maxRedeliveries: 2 });
      const defaulted = newRun("k", { redeliveries: 4 }, { maxRedeliveries: 0 });
      const cancelled = newRun("k");
      const runs = [retried, poison, defaulted, cancelled];
      await insert(store, ...runs);
      const batch = emptyBatch();
      for (let i = 0; i < runs.length; i++) batch.claims.push(leaseOn("a", NOW + 100 + i));
      const claimed = (await store.commit(batch)).claimed.map(([run]) => run);
      expect(claimed.map((r) => r.id)).toEqual(runs.map((r) => r.record.id));
      const start = emptyBatch();
      start.transitions.push({
        runId: retried.record.id,
        from: ["PENDING"],
        patch: { state: "RUNNING", startedAt: NOW, timeoutAt: NOW + 50 },
        events: [],
        lease: { attempt: 1, token: claimed[0].leaseToken ?? "" },
      });
      await store.commit(start);
      await store.requestCancel(cancelled.record.id, "asked by a test");
      const at = NOW + 1_000;
      const result = new Map((await store.requeueExpiredLeases(expiry(at))).map((r) => [r.id, r]));
      expect(result.size).toBe(4);
      expect(result.get(retried.record.id)).toMatchObject({ state: "SCHEDULED", retriesUsed: 1, redeliveries: 0, scheduledAt: at + 2_000 });
      expect(result.get(retried.record.id)?.error).toEqual({
        type: "TimeoutError",
        message: "the attempt exceeded its timeout of 0.5s",
        stack: "",
        retryable: true,
      });
      expect((await store.getHistory(retried.record.id)).at(-1)?.message).toBe(
        "retry 1 of 2 in 2s after TimeoutError: the attempt exceeded its timeout of 0.5s",
      );
      const lost = "the run was lost 3 times (max_redeliveries 2); last: not acknowledged within 15000 ms (server a)";
      expect(result.get(poison.record.id)).toMatchObject({ state: "FAILED", redeliveries: 3, endedAt: at });
      expect(result.get(poison.record.id)?.error).toEqual({ type: "MaxRedeliveriesExceeded", message: lost, stack: "", retryable: false });
      expect((await store.getHistory(poison.record.id)).at(-1)).toEqual({ state: "FAILED", at, attempt: 1, message: lost });
      // max_redeliveries 0: the server's default (5) applies, and 5 redeliveries are allowed.
      expect(result.get(defaulted.record.id)).toMatchObject({ state: "SCHEDULED", redeliveries: 5, scheduledAt: at });
      expect(result.get(cancelled.record.id)).toMatchObject({ state: "CANCELLED", redeliveries: 0, endedAt: at });
      expect(result.get(cancelled.record.id)?.error).toEqual({ type: "Cancelled", message: "asked by a test", stack: "", retryable: false });
      expect((await store.getHistory(cancelled.record.id)).at(-1)?.message).toBe("asked by a test");
    });

    it("re-queues at most `limit` leases per pass, oldest deadline first", async () => {
      await insert(store, newRun("k"), newRun("k"), newRun("k"));
      const batch = emptyBatch();
      batch.claims.push(leaseOn("a", NOW + 30), leaseOn("a", NOW + 10), leaseOn("a", NOW + 20));
      const [[third], [first], [second]] = (await store.commit(batch)).claimed;
      expect((await store.requeueExpiredLeases(expiry(NOW + 100, [], 2))).map((r) => r.id)).toEqual([first.id, second.id]);
      expect((await store.requeueExpiredLeases(expiry(NOW + 100, [], 2))).map((r) => r.id)).toEqual([third.id]);
    });

    it("lists newest first, filters, and pages", async () => {
      const runs = Array.from({ length: 5 }, (_, i) => newRun(i % 2 ? "odd" : "even", {}, { tags: i === 4 ? ["x"] : [] }));
      await insert(store, ...runs);
      const first = await store.listRuns({ taskKeys: [], states: [], tag: "", limit: 3 });
      expect(first.runs.map((r) => r.id)).toEqual(runs.slice(2).reverse().map((r) => r.record.id));
      const rest = await store.listRuns({ taskKeys: [], states: [], tag: "", limit: 3, before: first.next });
      expect(rest.runs.map((r) => r.id)).toEqual(runs.slice(0, 2).reverse().map((r) => r.record.id));
      expect(rest.next).toBeUndefined();
      expect((await store.listRuns({ taskKeys: ["odd"], states: [], tag: "", limit: 10 })).runs).toHaveLength(2);
      expect((await store.listRuns({ taskKeys: [], states: [], tag: "x", limit: 10 })).runs).toHaveLength(1);
    });

    it("pages by tag newest first, a run with a tag twice once, and forgets deleted runs", async () => {
      const old = newRun("k", { state: "COMPLETED", endedAt: NOW - 60_000 }, { tags: ["t", "t", "u"] });
      const runs = [old, ...Array.from({ length: 3 }, (_, i) => newRun("k", {}, { tags: i === 1 ? ["u"] : ["t"] }))];
      await insert(store, ...runs);
      const first = await store.listRuns({ taskKeys: [], states: [], tag: "t", limit: 2, countTotal: true });
      expect(first.runs.map((r) => r.id)).toEqual([runs[3].record.id, runs[1].record.id]);
      expect(first.total).toBe(3);
      const rest = await store.listRuns({ taskKeys: [], states: [], tag: "t", limit: 2, before: first.next });
      expect(rest.runs.map((r) => r.id)).toEqual([old.record.id]);
      expect(await store.deleteFinished(NOW, 10)).toBe(1);
      expect((await store.listRuns({ taskKeys: [], states: [], tag: "t", limit: 10, countTotal: true })).total).toBe(2);
      expect((await store.listRuns({ taskKeys: [], states: [], tag: "u", limit: 10 })).runs.map((r) => r.id)).toEqual([runs[2].record.id]);
    });

    it("counts every match across pages", async () => {
      const runs = [
        newRun("k", { createdAt: NOW - 60_000, workerId: "w-old" }),
        newRun("k", { createdAt: NOW, workerId: "w-new" }),
        newRun("k", { createdAt: NOW + 1, workerId: "w-new" }),
        newRun("k", { createdAt: NOW + 2 }),
      ];
      await insert(store, ...runs);
      const byWorker = await store.listRuns({ taskKeys: [], states: [], tag: "", workerId: "w-new", limit: 1, countTotal: true });
      expect(byWorker.runs.map((r) => r.id)).toEqual([runs[2].record.id]);
      expect(byWorker.total).toBe(2);
      const nextPage = await store.listRuns({ taskKeys: [], states: [], tag: "", workerId: "w-new", limit: 1, before: byWorker.next, countTotal: true });
      expect(nextPage.runs.map((r) => r.id)).toEqual([runs[1].record.id]);
      expect(nextPage.total).toBe(2);
      const recent = await store.listRuns({ taskKeys: [], states: [], tag: "", createdAfter: NOW, limit: 10 });
      expect(recent.runs.map((r) => r.id)).toEqual(runs.slice(1).reverse().map((r) => r.record.id));
      expect(recent.total).toBeUndefined();
    });

    it("filters the list by worker, id prefix and creation time", async () => {
      const runs = [
        newRun("k", { createdAt: NOW - 60_000, workerId: "w-a" }),
        newRun("k", { createdAt: NOW, workerId: "w-b" }),
        newRun("k", { createdAt: NOW + 60_000 }),
      ];
      await insert(store, ...runs);
      const ids = async (filter: object) =>
        (await store.listRuns({ taskKeys: [], states: [], tag: "", limit: 10, ...filter })).runs.map((r) => r.id);
      const [old, middle, young] = runs.map((r) => r.record.id);
      expect(await ids({ workerId: "w-b" })).toEqual([middle]);
      expect(await ids({ idPrefix: young })).toEqual([young]);
      expect(await ids({ idPrefix: old.slice(0, 8) })).toContain(old);
      expect(await ids({ idPrefix: "ffffffff" })).toEqual([]);
      expect(await ids({ createdAfter: NOW })).toEqual([young, middle]);
      expect(await ids({ createdBefore: NOW })).toEqual([old]);
      expect(await ids({ createdAfter: NOW - 60_000, createdBefore: NOW + 60_000 })).toEqual([middle, old]);
    });

    it("counts queue depth, runs finished per minute and durations per task key", async () => {
      const since = NOW - 10 * 60_000;
      const ended = (minute: number, seconds: number, state: "COMPLETED" | "FAILED" = "COMPLETED") =>
        newRun("work", { state, startedAt: since + minute * 60_000, endedAt: since + minute * 60_000 + seconds * 1000 });
      await insert(
        store,
        newRun("work"),
        newRun("work"),
        newRun("other", { state: "RUNNING", startedAt: NOW }),
        ended(0, 1),
        ended(9, 2),
        ended(9, 3),
        ended(9, 4, "FAILED"),
        // Before the window and after it: not counted.
        newRun("work", { state: "COMPLETED", startedAt: since - 120_000, endedAt: since - 60_000 }),
        newRun("work", { state: "COMPLETED", startedAt: since, endedAt: since + 10 * 60_000 }),
      );
      const stats = await store.taskStats(since, 10);
      expect(stats.map((s) => s.taskKey)).toEqual(["other", "work"]);
      const [other, work] = stats;
      expect([other.scheduled, other.running]).toEqual([0, 1]);
      expect(work.scheduled).toBe(2);
      expect(work.completedPerMinute).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
      expect(work.failedPerMinute).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      expect([work.durationP50Ms, work.durationP95Ms, work.durationP99Ms]).toEqual([2000, 3000, 3000]);
    });

    it("knows the next scheduled time, keeps concurrency limits, and deletes expired finished runs", async () => {
      await insert(store, newRun("k", { scheduledAt: NOW + 5_000 }), newRun("k", { scheduledAt: NOW + 9_000 }));
      expect(await store.nextScheduledAt(NOW)).toBe(NOW + 5_000);
      await store.setConcurrencyLimit({ tag: "db", limit: 2 });
      await store.setConcurrencyLimit({ tag: "db", limit: 3 });
      expect(await store.listConcurrencyLimits()).toEqual([{ tag: "db", limit: 3 }]);
      expect(await store.deleteConcurrencyLimit("db")).toBe(true);
      expect(await store.deleteConcurrencyLimit("db")).toBe(false);
      const done = newRun("k", { state: "COMPLETED", endedAt: NOW });
      await insert(store, done);
      expect(await store.deleteFinished(NOW + 1, 100)).toBe(1);
      expect(await store.getRuns([done.record.id])).toEqual([]);
      expect((await store.countByState()).SCHEDULED).toBe(2);
    });
  });
}
