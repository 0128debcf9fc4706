import { describe, expect, it } from "vitest";
import { createPostgresStore } from "../src/store/postgres-store.js";
import { emptyBatch, type NewRun } from "../src/store/store.js";
import { usePostgres } from "./support/postgres-database.js";
import { queuedRun } from "./support/queued-run.js";

// What only PostgreSQL can do to a commit; the shared behaviour is in store-contract.test.ts.
const postgres = usePostgres();

function newRun(idempotencyKey = ""): NewRun {
  return queuedRun("k", Date.UTC(2026, 10, 24), {}, { idempotencyKey });
}

describe("the PostgreSQL store", () => {
  it("takes a batch again after a commit whose answer was lost, without failing or duplicating", async () => {
    // The connection can break after PostgreSQL committed but before it answered: the
    // server retries the batch, whose runs are then stored already under their own ids.
    const store = await createPostgresStore({ connectionString: await postgres.newSchema() });
    try {
      const plain = newRun();
      const keyed = newRun("order-7");
      const batch = emptyBatch();
      batch.inserts.push(plain, keyed);
      await store.commit(batch);
      const again = await store.commit(batch);
      expect(again.inserted).toEqual([
        { id: plain.record.id, existing: false },
        { id: keyed.record.id, existing: false },
      ]);
      expect(await store.getHistory(plain.record.id)).toHaveLength(1);
      expect(await store.countByState()).toEqual({ SCHEDULED: 2 });
    } finally {
      await store.close();
    }
  });
});
