import { describe, expect, it } from "vitest";
import { createLogFeed } from "../src/store/log-feed.js";
import { type CommitResult, type LogRecord, type NewRun, type Store, emptyBatch } from "../src/store/store.js";

function line(runId: string, message: string): LogRecord {
  return { runId, at: 1, level: "info", message, attempt: 1 };
}

/** A store whose commit answers what the test says, or fails. */
function fakeStore(answer: () => CommitResult): Store {
  return { location: "fake", commit: async () => answer() } as unknown as Store;
}

const ok = (existing: boolean[] = []): CommitResult => ({
  inserted: existing.map((e, i) => ({ id: `r${i}`, existing: e })),
  applied: [],
  claimed: [],
});

describe("createLogFeed", () => {
  it("hands each commit's lines to the listeners once it returned, and stops after unsubscribe", async () => {
    const feed = createLogFeed(fakeStore(() => ok()));
    const seen: string[] = [];
    const stop = feed.onLogs((lines) => seen.push(...lines.map((l) => l.message)));
    const batch = emptyBatch();
    batch.logs.push(line("a", "one"), line("b", "two"));
    await feed.store.commit(batch);
    expect(seen).toEqual(["one", "two"]);
    stop();
    await feed.store.commit(batch);
    expect(seen).toEqual(["one", "two"]);
    expect(feed.store.location).toBe("fake");
  });

  it("leaves out the lines of an insert that matched an existing run, and those of a failed commit", async () => {
    let fail = false;
    const feed = createLogFeed(
      fakeStore(() => {
        if (fail) throw new Error("SQLITE_FULL");
        return ok([false, true]);
      }),
    );
    const seen: string[] = [];
    feed.onLogs((lines) => seen.push(...lines.map((l) => l.message)));
    const batch = emptyBatch();
    const insert = (message: string) => ({ record: {}, history: [], logs: [line("x", message)] }) as unknown as NewRun;
    batch.inserts.push(insert("new run"), insert("existing run"));
    await feed.store.commit(batch);
    expect(seen).toEqual(["new run"]);
    fail = true;
    await expect(feed.store.commit(batch)).rejects.toThrow("SQLITE_FULL");
    expect(seen).toEqual(["new run"]);
  });
});
