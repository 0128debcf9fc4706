import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRunChangeFeed } from "../src/rpc/run-change-feed.js";
import { type CommitResult, emptyBatch, type RunRecord, type Store, type WriteBatch } from "../src/store/store.js";

// The feed between the broker's commits and the live views, with a fake store and clock.
afterEach(() => {
  vi.useRealTimers();
});

function fakeStore() {
  const reads: string[][] = [];
  const store = {
    async getRuns(ids: readonly string[]) {
      reads.push([...ids]);
      return ids.map((id) => ({ id }) as RunRecord);
    },
  } as unknown as Store;
  return { store, reads };
}

function commit(fill: (batch: WriteBatch, result: CommitResult) => void): [WriteBatch, CommitResult] {
  const batch = emptyBatch();
  const result: CommitResult = { inserted: [], applied: [], claimed: [] };
  fill(batch, result);
  return [batch, result];
}

const transition = (runId: string) => ({ runId, from: [], patch: { state: "RUNNING" as const }, events: [] });

describe("the run change feed", () => {
  it("reads nothing while nobody listens", async () => {
    vi.useFakeTimers();
    const { store, reads } = fakeStore();
    const feed = createRunChangeFeed({ store, logger: pino({ level: "silent" }) });
    feed.committed(...commit((batch, result) => {
      batch.transitions.push(transition("a"));
      result.applied.push(true);
    }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toEqual([]);
  });

  it("gathers the runs of several commits into one read for all listeners: new, changed and claimed, not refused or existing", async () => {
    vi.useFakeTimers();
    const { store, reads } = fakeStore();
    const feed = createRunChangeFeed({ store, logger: pino({ level: "silent" }) });
    const heard: string[][] = [[], []];
    feed.onRuns((runs) => heard[0].push(...runs.map((run) => run.id)));
    const stop = feed.onRuns((runs) => heard[1].push(...runs.map((run) => run.id)));
    feed.committed(...commit((batch, result) => {
      result.inserted.push({ id: "new", existing: false }, { id: "old", existing: true });
      batch.transitions.push(transition("moved"), transition("refused"));
      result.applied.push(true, false);
    }));
    feed.committed(...commit((_batch, result) => result.claimed.push([{ id: "claimed" } as RunRecord])));
    await vi.advanceTimersByTimeAsync(100);
    expect(reads).toEqual([["new", "moved", "claimed"]]);
    expect(heard).toEqual([["new", "moved", "claimed"], ["new", "moved", "claimed"]]);
    stop();
    feed.committed(...commit((_batch, result) => result.inserted.push({ id: "later", existing: false })));
    await vi.advanceTimersByTimeAsync(100);
    expect(heard[1]).toEqual(["new", "moved", "claimed"]);
    expect(heard[0]).toContain("later");
  });

  it("tells a run's log listeners of its new lines at once, and only them", () => {
    const { store } = fakeStore();
    const feed = createRunChangeFeed({ store, logger: pino({ level: "silent" }) });
    let told = 0;
    const stop = feed.onLogs("a", () => told++);
    feed.committed(...commit((batch) => batch.logs.push({ runId: "a", at: 1, level: "info", message: "x", attempt: 1 })));
    feed.committed(...commit((batch) => batch.logs.push({ runId: "b", at: 1, level: "info", message: "x", attempt: 1 })));
    expect(told).toBe(1);
    stop();
    feed.committed(...commit((batch) => batch.logs.push({ runId: "a", at: 2, level: "info", message: "y", attempt: 1 })));
    expect(told).toBe(1);
  });
});
