import { randomInt } from "node:crypto";
import type Database from "better-sqlite3";
import { expirySql } from "./lease-expiry-sql.js";
import { fromRow, type RunRow } from "./sqlite-run-row.js";
import type { LeaseExpiryRequest, RunRecord } from "./store.js";

const text = (x: string) => `(CASE WHEN (${x}) = cast((${x}) AS integer) THEN cast(cast((${x}) AS integer) AS text) ELSE cast((${x}) AS text) END)`;

const sql = expirySql({
  // better-sqlite3 binds a JavaScript number as a REAL: times and counts are cast back.
  param: (name) => (name === "seed" ? "@seed" : `cast(@${name} AS integer)`),
  option: (name) => `json_extract(options, '$.${name}')`,
  retryDelaySeconds: `coalesce(json_extract(options, '$.retryDelaySeconds[' ||
    max(0, min(retries_used, json_array_length(options, '$.retryDelaySeconds') - 1)) || ']'), 0)`,
  // SQLite may be built without floor(); the draw is never negative.
  fraction: (x) => `((${x}) - cast((${x}) AS integer))`,
  greatest: (a, b) => `max(${a}, ${b})`,
  least: (a, b) => `min(${a}, ${b})`,
  text,
  error: (type, message, retryable) =>
    `json_object('type', ${type}, 'message', ${message}, 'stack', '', 'retryable', json('${retryable}'))`,
  integer: (x) => `cast(${x} AS integer)`,
});

/**
 * Lease expiry on SQLite: one transaction of two statements over the same runs. SQLite's
 * RETURNING sees only the row as updated and cannot feed an INSERT, so the history rows
 * come first, from the rows before the expiry (INSERT … SELECT, which names the runs it
 * took); the UPDATE over exactly those runs then re-queues them, deciding each run's state
 * with the same expressions. Nothing writes between the two: better-sqlite3 runs the
 * transaction synchronously, and one server holds the file (sqlite-file-lock.ts).
 */
export function createSqliteLeaseExpiry(db: Database.Database): (request: LeaseExpiryRequest) => RunRecord[] {
  // Leased runs are few (bounded by the workers' limits): the active index finds them.
  const insertHistory = db
    .prepare(`
      INSERT INTO task_run_events (run_id, state, at, attempt, message)
      SELECT id, ${sql.state}, @now, attempts, ${sql.message}
      FROM task_runs INDEXED BY task_runs_active
      WHERE ${sql.expired("lease_token IN (SELECT value FROM json_each(@keep))")}
      ORDER BY lease_deadline LIMIT @limit
      RETURNING run_id`)
    .pluck();
  const requeue = db.prepare<Record<string, unknown>, RunRow>(`
    UPDATE task_runs SET ${sql.sets}
    WHERE id IN (SELECT value FROM json_each(@ids))
    RETURNING *`);
  return db.transaction((request: LeaseExpiryRequest) => {
    const params = {
      now: request.now,
      limit: request.limit,
      keep: JSON.stringify(request.keep),
      ackTimeoutMs: request.ackTimeoutMs,
      leaseDurationMs: request.leaseDurationMs,
      defaultMaxRedeliveries: request.defaultMaxRedeliveries,
      seed: randomInt(1_000_000) / 1_000_000,
    };
    const ids = insertHistory.all(params) as string[];
    if (ids.length === 0) return [];
    const { limit: _limit, keep: _keep, ...sets } = params;
    return requeue.all({ ...sets, ids: JSON.stringify(ids) }).map(fromRow);
  });
}
