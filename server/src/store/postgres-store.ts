import pg from "pg";
import { changeChannel, createPostgresChangeFeed } from "./postgres-change-feed.js";
import { createPostgresWorkerSessions } from "./postgres-worker-sessions.js";
import { COUNT_CONCURRENCY, type CommitState, commitBatch } from "./postgres-commit.js";
import { requeueExpiredLeases } from "./postgres-lease-expiry.js";
import { migratePostgres } from "./postgres-migrations.js";
import { onPooledConnection } from "./postgres-transaction.js";
import { selectRunPage, selectTaskStats } from "./postgres-run-queries.js";
import { type PostgresRunRow, runFromRow } from "./postgres-run-row.js";
import type { LogRecord, RunState, SequencedLogRecord, Store, TransitionRecord } from "./store.js";

export interface PostgresStoreOptions {
  /** `postgresql://user:password@host:port/database`; `?options=-c search_path=…` picks a schema. */
  connectionString: string;
  /** Connections in the pool; default 10. */
  maxConnections?: number;
}

// Times and counts are bigint columns holding milliseconds and row counts, all far below
// 2^53: parse them as numbers (node-postgres returns strings for int8 by default).
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID && format !== "binary") return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** "postgresql://app:****@db:5432/taskwire": the URL without its password, for logs. */
export function postgresLocation(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = "****";
    return url.toString();
  } catch {
    return "postgresql://(unparsable URL)";
  }
}

/** A pool on the database, with int8 parsed as numbers. */
function createPool(connectionString: string, max: number): pg.Pool {
  // Pipelined: a commit sends the statements that need no earlier answer at once (postgres-commit.ts).
  const pool = new pg.Pool({ connectionString, max, types, pipeline: true } as pg.PoolConfig);
  // An idle connection that the database dropped (restart, failover) is removed from the
  // pool and reported here; without a listener the process would crash.
  pool.on("error", () => {});
  return pool;
}

/**
 * The PostgreSQL store. Every commit is one transaction with a fixed number of multi-row
 * statements (see postgres-commit.ts); claims take rows with FOR UPDATE SKIP LOCKED. The
 * schema is created or migrated before this resolves.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = createPool(options.connectionString, options.maxConnections ?? 10);
  let channel = "";
  try {
    const client = await pool.connect();
    try {
      await migratePostgres(client);
      const { rows } = await client.query<{ schema: string }>("SELECT current_schema() AS schema");
      channel = changeChannel(rows[0].schema);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  const commitState: CommitState = { limitsSeen: false };
  const changeFeed = createPostgresChangeFeed({ connectionString: options.connectionString, pool, channel });

  return {
    location: postgresLocation(options.connectionString),
    changeFeed,
    ...createPostgresWorkerSessions(pool),
    commit: (batch) => onPooledConnection(pool, (client) => commitBatch(client, batch, channel, commitState)),
    async requestCancel(runId, reason) {
      const { rows } = await pool.query<PostgresRunRow>(
        `UPDATE task_runs SET cancel_reason = coalesce(cancel_reason, $2)
         WHERE id = $1 AND state IN ('PENDING', 'RUNNING') RETURNING *`,
        [runId, reason],
      );
      return rows[0] ? runFromRow(rows[0]) : undefined;
    },
    async getRuns(ids) {
      if (ids.length === 0) return [];
      const { rows } = await pool.query<PostgresRunRow>("SELECT * FROM task_runs WHERE id = ANY ($1::text[])", [ids]);
      // In the order asked, as on SQLite.
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [runFromRow(row)] : [];
      });
    },
    async getHistory(id) {
      const { rows } = await pool.query<TransitionRecord>(
        "SELECT state, at, attempt, message FROM task_run_events WHERE run_id = $1 ORDER BY id",
        [id],
      );
      return rows;
    },
    async listRuns(filter) {
      const { rows, next, total } = await selectRunPage(pool, filter);
      return { runs: rows.map(runFromRow), next, total };
    },
    async taskStats(since, minutes) {
      return selectTaskStats(pool, since, minutes);
    },
    async listLogs(runId, after, limit) {
      const { rows } = await pool.query<LogRecord>(
        `SELECT run_id AS "runId", at, level, message, attempt FROM task_run_logs
         WHERE run_id = $1 AND at > $2 ORDER BY at, id LIMIT $3`,
        [runId, after, limit],
      );
      return rows;
    },
    async followLogs(runId, after, afterSeq, limit) {
      // Ids are taken in commit order: the broker commits one batch at a time, and one
      // server serves a database (postgres-server-lock.ts). With several servers, commits
      // could interleave; a run's lines would then need a per-run sequence instead.
      const { rows } = await pool.query<SequencedLogRecord>(
        `SELECT id AS seq, run_id AS "runId", at, level, message, attempt FROM task_run_logs
         WHERE run_id = $1 AND id > $2 AND at > $3 ORDER BY id LIMIT $4`,
        [runId, afterSeq, after, limit],
      );
      return rows;
    },
    async nextScheduledAt(now) {
      const { rows } = await pool.query<{ next: number | null }>(
        "SELECT min(scheduled_at) AS next FROM task_runs WHERE state = 'SCHEDULED' AND scheduled_at > $1",
        [now],
      );
      return rows[0].next ?? undefined;
    },
    async requeueAbandoned(now, deadServers) {
      const all = deadServers === "all";
      const { rowCount } = await pool.query(
        `WITH requeued AS (
           UPDATE task_runs SET state = 'SCHEDULED', worker_id = NULL, lease_token = NULL, lease_server_id = NULL,
             lease_session_id = NULL, lease_deadline = NULL, timeout_at = NULL, cancel_reason = NULL
           WHERE state IN ('PENDING', 'RUNNING')
             AND ($2 OR lease_deadline IS NULL OR lease_deadline <= $1 OR timeout_at <= $1 OR lease_server_id IS NULL
               OR lease_server_id = ANY ($3::text[]))
           RETURNING id, attempts
         )
         INSERT INTO task_run_events (run_id, state, at, attempt, message)
         SELECT id, 'SCHEDULED', $1, attempts, 'requeued: the server restarted while it ran' FROM requeued`,
        [now, all, all ? [] : deadServers],
      );
      return rowCount ?? 0;
    },
    async leaseServerIds() {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT DISTINCT lease_server_id AS id FROM task_runs
         WHERE state IN ('PENDING', 'RUNNING') AND lease_server_id IS NOT NULL`,
      );
      return rows.map((row) => row.id);
    },
    requeueExpiredLeases: (request) => requeueExpiredLeases(pool, channel, request),
    async nextLeaseDeadline(exceptServerId) {
      const { rows } = await pool.query<{ next: number | null }>(
        `SELECT min(least(lease_deadline, timeout_at)) AS next FROM task_runs
         WHERE state IN ('PENDING', 'RUNNING') AND lease_server_id IS DISTINCT FROM $1`,
        [exceptServerId],
      );
      return rows[0].next ?? undefined;
    },
    async countByState() {
      const { rows } = await pool.query<{ state: RunState; n: number }>(
        "SELECT state, count(*) AS n FROM task_runs GROUP BY state",
      );
      return Object.fromEntries(rows.map((row) => [row.state, row.n]));
    },
    async setConcurrencyLimit({ tag, limit }) {
      await pool.query(
        `INSERT INTO concurrency_limits (tag, "limit") VALUES ($1, $2)
         ON CONFLICT (tag) DO UPDATE SET "limit" = excluded."limit"`,
        [tag, limit],
      );
    },
    async deleteConcurrencyLimit(tag) {
      const { rowCount } = await pool.query("DELETE FROM concurrency_limits WHERE tag = $1", [tag]);
      return (rowCount ?? 0) > 0;
    },
    async listConcurrencyLimits() {
      const { rows } = await pool.query<{ tag: string; limit: number }>(
        'SELECT tag, "limit" FROM concurrency_limits ORDER BY tag',
      );
      return rows;
    },
    async countConcurrency() {
      const { rows } = await pool.query<{ tag: string; limit: number; active: number }>(COUNT_CONCURRENCY);
      return rows;
    },
    async deleteFinished(cutoff, limit) {
      const { rowCount } = await pool.query(
        `WITH expired AS (
           SELECT id FROM task_runs
           WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED') AND ended_at < $1
           LIMIT $2 FOR UPDATE SKIP LOCKED
         ),
         events AS (DELETE FROM task_run_events WHERE run_id IN (SELECT id FROM expired)),
         logs AS (DELETE FROM task_run_logs WHERE run_id IN (SELECT id FROM expired))
         DELETE FROM task_runs WHERE id IN (SELECT id FROM expired)`,
        [cutoff, limit],
      );
      return rowCount ?? 0;
    },
    fatalError() {
      // A database server outlives a replaced file; a lost connection fails commits instead.
      return undefined;
    },
    async close() {
      await pool.end();
    },
  };
}
