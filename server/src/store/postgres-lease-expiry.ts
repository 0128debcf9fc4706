import { randomInt } from "node:crypto";
import type { Pool } from "pg";
import { changesOfExpiry, encodeChanges } from "./change-feed.js";
import { expirySql } from "./lease-expiry-sql.js";
import { type PostgresRunRow, runFromRow } from "./postgres-run-row.js";
import { onPooledConnection } from "./postgres-transaction.js";
import type { LeaseExpiryRequest, RunRecord } from "./store.js";

const PARAMS = { now: 1, ackTimeoutMs: 4, leaseDurationMs: 5, defaultMaxRedeliveries: 6, seed: 7 } as const;

const sql = expirySql({
  param: (name) => `$${PARAMS[name]}::${name === "seed" ? "float8" : "bigint"}`,
  option: (name) => `(options->>'${name}')::float8`,
  retryDelaySeconds: `coalesce((options->'retryDelaySeconds'->>
    greatest(0, least(retries_used, jsonb_array_length(options->'retryDelaySeconds') - 1)))::float8, 0)`,
  fraction: (x) => `((${x}) - floor(${x}))`,
  greatest: (a, b) => `greatest(${a}, ${b})`,
  least: (a, b) => `least(${a}, ${b})`,
  // float8's text is the shortest that reads back the same: 1, 0.5, 0.2, as JavaScript prints them.
  text: (x) => `(${x})::float8::text`,
  error: (type, message, retryable) =>
    `jsonb_build_object('type', ${type}::text, 'message', (${message})::text, 'stack', '', 'retryable', ${retryable})`,
  integer: (x) => `(${x})::bigint`,
});

/**
 * Lease expiry on PostgreSQL: one statement. Its first part takes the expired runs with
 * FOR UPDATE SKIP LOCKED (two servers expiring at once take each run once) and computes
 * each one's history message from the row before the change; the UPDATE re-queues them,
 * and the INSERT writes their history rows. The other servers are notified in the same
 * transaction, so they hear of it once committed, and only then.
 */
const REQUEUE_EXPIRED = {
  name: "taskwire_requeue_expired",
  text: `
  WITH expired AS (
    SELECT id AS expired_id, attempts AS expired_attempt, ${sql.state} AS expired_state, ${sql.message} AS expired_message
    FROM task_runs
    WHERE ${sql.expired("lease_token = ANY ($3::text[])")}
    ORDER BY lease_deadline LIMIT $2 FOR UPDATE SKIP LOCKED
  ),
  requeued AS (
    UPDATE task_runs SET ${sql.sets}
    FROM expired WHERE id = expired_id
    RETURNING task_runs.*
  ),
  history AS (
    INSERT INTO task_run_events (run_id, state, at, attempt, message)
    SELECT expired_id, expired_state, $1::bigint, expired_attempt, expired_message FROM expired
  )
  SELECT * FROM requeued`,
};

export function requeueExpiredLeases(pool: Pool, channel: string, request: LeaseExpiryRequest): Promise<RunRecord[]> {
  return onPooledConnection(pool, async (client) => {
    await client.query("BEGIN");
    const { rows } = await client.query<PostgresRunRow>({
      ...REQUEUE_EXPIRED,
      values: [
        request.now,
        request.limit,
        request.keep,
        request.ackTimeoutMs,
        request.leaseDurationMs,
        request.defaultMaxRedeliveries,
        randomInt(1_000_000) / 1_000_000,
      ],
    });
    const runs = rows.map(runFromRow);
    const payloads = runs.length > 0 ? encodeChanges(request.origin, changesOfExpiry(runs, request.now)) : [];
    if (payloads.length > 0) {
      await client.query({ name: "taskwire_notify", text: "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", values: [channel, payloads] });
    }
    await client.query("COMMIT");
    return runs;
  });
}
