import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { changesOfExpiry, createLocalChangeFeed } from "./change-feed.js";
import { createConcurrencyAdmission } from "./concurrency-admission.js";
import { createSqliteClaims } from "./sqlite-claim.js";
import { createSqliteLeaseExpiry } from "./sqlite-lease-expiry.js";
import { createSqliteWorkerSessions } from "./sqlite-worker-sessions.js";
import { fromRow, type RunRow, toRow } from "./sqlite-run-row.js";
import { createDatabaseFileGuard, type DatabaseFileLostError } from "./database-file-guard.js";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations.js";
import { selectRunPage, selectTaskStats } from "./sqlite-run-queries.js";
import {
  type CommitResult,
  isLeasedState,
  type LeaseExtension,
  type ListFilter,
  type LogRecord,
  type NewRun,
  type RunPatch,
  type RunRecord,
  type RunState,
  type SequencedLogRecord,
  type Store,
  type Transition,
  type TransitionRecord,
  type WriteBatch,
} from "./store.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  path: string;
  /** Called once when the file is found deleted or replaced; every write is refused after. */
  onFileLost?: (error: DatabaseFileLostError) => void;
}

export interface SqliteStore extends Store {
  /** The open connection, for inspection and fault injection; writes through it bypass the broker. */
  readonly database: Database.Database;
}


/** The SET clause for each patchable field; a payload fills two columns. */
const PATCH_SQL: Record<keyof RunPatch, string> = {
  state: "state = @state",
  result: "result = @result, result_type = @result_type",
  error: "error = @error",
  attempts: "attempts = @attempts",
  retriesUsed: "retries_used = @retriesUsed",
  redeliveries: "redeliveries = @redeliveries",
  scheduledAt: "scheduled_at = @scheduledAt",
  startedAt: "started_at = @startedAt",
  endedAt: "ended_at = @endedAt",
  workerId: "worker_id = @workerId",
  leaseDeadline: "lease_deadline = @leaseDeadline",
  timeoutAt: "timeout_at = @timeoutAt",
};

/** What a transition out of PENDING/RUNNING sets: the lease ended with the attempt. */
const CLEAR_LEASE_SQL = `lease_token = NULL, lease_server_id = NULL, lease_session_id = NULL,
  lease_deadline = NULL, timeout_at = NULL, cancel_reason = NULL`;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit that
 * returned survives a power cut. better-sqlite3 is synchronous; a commit blocks the event
 * loop for its fsync, which is why the broker hands it whole batches.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  const guard = options.path === ":memory:" ? undefined : createDatabaseFileGuard(options.path, options.onFileLost);

  const insertRun = db.prepare(`
    INSERT INTO task_runs (id, task_key, state, parameters, parameters_type, options, priority,
      idempotency_key, tags, result, result_type, error, attempts, retries_used, redeliveries,
      created_at, scheduled_at, started_at, ended_at, worker_id, foreground)
    VALUES (@id, @task_key, @state, @parameters, @parameters_type, @options, @priority,
      @idempotency_key, @tags, @result, @result_type, @error, @attempts, @retries_used,
      @redeliveries, @created_at, @scheduled_at, @started_at, @ended_at, @worker_id, @foreground)`);
  // A new run holds no lease: the lease columns of toRow are not bound.
  const findIdempotent = db
    .prepare("SELECT id FROM task_runs WHERE task_key = ? AND idempotency_key = ?")
    .pluck();
  const insertEvent = db.prepare(
    "INSERT INTO task_run_events (run_id, state, at, attempt, message) VALUES (?, ?, ?, ?, ?)",
  );
  const insertLog = db.prepare(
    "INSERT INTO task_run_logs (run_id, at, level, message, attempt) VALUES (?, ?, ?, ?, ?)",
  );
  // Tokens as a JSON array; only the leases this stream still holds move. Leased runs are
  // few (bounded by the workers' limits): the active index finds them, and no index on
  // the lease columns costs every claim and every result a page write.
  const extendLeases = db
    .prepare(`
      UPDATE task_runs INDEXED BY task_runs_active SET lease_deadline = max(lease_deadline, ?)
      WHERE state IN ('PENDING', 'RUNNING') AND lease_session_id = ? AND lease_token IN (SELECT value FROM json_each(?))
      RETURNING lease_token`)
    .pluck();
  const selectNextLeaseDeadline = db
    .prepare(`
      SELECT min(min(lease_deadline, coalesce(timeout_at, lease_deadline))) FROM task_runs INDEXED BY task_runs_active
      WHERE state IN ('PENDING', 'RUNNING') AND lease_server_id IS NOT ?`)
    .pluck();
  const updateCancel = db.prepare<[string, string], RunRow>(`
    UPDATE task_runs SET cancel_reason = coalesce(cancel_reason, ?)
    WHERE id = ? AND state IN ('PENDING', 'RUNNING') RETURNING *`);
  const changeFeed = createLocalChangeFeed();
  const claims = createSqliteClaims(db, insertEvent);
  const requeueExpired = createSqliteLeaseExpiry(db);
  const workerSessions = createSqliteWorkerSessions(db);
  const selectById = db.prepare<[string], RunRow>("SELECT * FROM task_runs WHERE id = ?");
  const selectHistory = db.prepare<[string], TransitionRecord>(
    "SELECT state, at, attempt, message FROM task_run_events WHERE run_id = ? ORDER BY rowid",
  );
  const selectLogs = db.prepare<[string, number, number], LogRecord>(
    `SELECT run_id AS runId, at, level, message, attempt FROM task_run_logs
     WHERE run_id = ? AND at > ? ORDER BY at, rowid LIMIT ?`,
  );
  // rowid is not aliased by a column, but nothing here VACUUMs, the one thing that renumbers it.
  const selectLogsAfterSeq = db.prepare<[string, number, number, number], SequencedLogRecord>(
    `SELECT rowid AS seq, run_id AS runId, at, level, message, attempt FROM task_run_logs
     WHERE run_id = ? AND rowid > ? AND at > ? ORDER BY rowid LIMIT ?`,
  );
  const selectNextDue = db
    .prepare("SELECT MIN(scheduled_at) FROM task_runs WHERE state = 'SCHEDULED' AND scheduled_at > ?")
    .pluck();
  const selectExpired = db
    .prepare(
      `SELECT id FROM task_runs INDEXED BY task_runs_ended
       WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED') AND ended_at < ? LIMIT ?`,
    )
    .pluck();
  const deleteEvents = db.prepare("DELETE FROM task_run_events WHERE run_id = ?");
  const deleteLogs = db.prepare("DELETE FROM task_run_logs WHERE run_id = ?");
  const deleteRun = db.prepare("DELETE FROM task_runs WHERE id = ?");
  const updateStatements = new Map<string, Database.Statement>();

  function updateFor(transition: Transition): Database.Statement {
    const keys = Object.keys(transition.patch) as (keyof RunPatch)[];
    const clears = !isLeasedState(transition.patch.state);
    const fenced = transition.lease !== undefined;
    const cacheKey = `${keys.join(",")}|${transition.from.join(",")}|${clears}|${fenced}`;
    let statement = updateStatements.get(cacheKey);
    if (!statement) {
      const sets = [...keys.map((key) => PATCH_SQL[key]), ...(clears ? [CLEAR_LEASE_SQL] : [])].join(", ");
      const from = transition.from.map((state) => `'${state}'`).join(", ");
      const fence = fenced ? " AND attempts = @fenceAttempt AND lease_token = @fenceToken" : "";
      statement = db.prepare(`UPDATE task_runs SET ${sets} WHERE id = @id AND state IN (${from})${fence}`);
      updateStatements.set(cacheKey, statement);
    }
    return statement;
  }

  function insert(newRun: NewRun): { id: string; existing: boolean } {
    const run = newRun.record;
    if (run.options.idempotencyKey) {
      const existing = findIdempotent.get(run.taskKey, run.options.idempotencyKey) as string | undefined;
      if (existing) return { id: existing, existing: true };
    }
    insertRun.run(toRow(run));
    for (const event of newRun.history) {
      insertEvent.run(run.id, event.state, event.at, event.attempt, event.message);
    }
    for (const line of newRun.logs) insertLog.run(line.runId, line.at, line.level, line.message, line.attempt);
    return { id: run.id, existing: false };
  }

  function applyTransition(transition: Transition): boolean {
    const params: Record<string, unknown> = { id: transition.runId };
    if (transition.lease) {
      params.fenceAttempt = transition.lease.attempt;
      params.fenceToken = transition.lease.token;
    }
    for (const [key, value] of Object.entries(transition.patch)) {
      if (key === "result") {
        const payload = value as RunRecord["result"];
        params.result = payload ? Buffer.from(payload.data) : null;
        params.result_type = payload?.contentType ?? null;
      } else if (key === "error") {
        params[key] = value ? JSON.stringify(value) : null;
      } else {
        params[key] = value ?? null;
      }
    }
    const changed = updateFor(transition).run(params).changes > 0;
    if (changed) {
      for (const e of transition.events) insertEvent.run(transition.runId, e.state, e.at, e.attempt, e.message);
    }
    return changed;
  }

  const commitTransaction = db.transaction((batch: WriteBatch): CommitResult => {
    const inserted = batch.inserts.map(insert);
    const applied = batch.transitions.map(applyTransition);
    for (const line of batch.logs) insertLog.run(line.runId, line.at, line.level, line.message, line.attempt);
    const exhausted = new Set<string>();
    const admission = createConcurrencyAdmission(batch.claims.length > 0 ? claims.countConcurrency() : []);
    const claimsMade = batch.claims.map((request) => claims.claim(request, exhausted, admission));
    const claimed = claimsMade.map((c) => c.runs);
    const limited = claimsMade.map((c) => c.limited);
    const extended = batch.extensions.map(
      (e: LeaseExtension) => extendLeases.all(e.deadline, e.sessionId, JSON.stringify(e.tokens)) as string[],
    );
    for (const e of batch.extensions) workerSessions.touch(e);
    return { inserted, applied, claimed, extended, limited };
  });

  /**
   * Runs a write, then checks that the file written is still the database file before the
   * write is reported done: after a delete or a replace it would be lost at the next start.
   */
  function guarded<T>(write: () => T): T {
    // Before the write too: a replaced database file leaves the old WAL at its path, and a
    // write that reached it would be replayed into the new file at the next start.
    guard?.check();
    const result = write();
    guard?.check();
    return result;
  }

  return {
    database: db,
    location: options.path === ":memory:" ? "sqlite::memory:" : `sqlite:${options.path}`,
    changeFeed,
    openWorkerSession: (session) => guarded(() => workerSessions.openWorkerSession(session)),
    closeWorkerSession: (sessionId) => guarded(() => workerSessions.closeWorkerSession(sessionId)),
    forgetWorkerSessions: (servers, except) => guarded(() => workerSessions.forgetWorkerSessions(servers, except)),
    listWorkerSessions: workerSessions.listWorkerSessions,
    async commit(batch) {
      const result = guarded(() => commitTransaction(batch));
      if (batch.changes) await changeFeed.publish(batch.changes.origin, batch.changes.changes);
      return result;
    },
    async requestCancel(runId, reason) {
      const row = guarded(() => updateCancel.get(reason, runId));
      return row ? fromRow(row) : undefined;
    },
    async getRuns(ids) {
      const runs: RunRecord[] = [];
      for (const id of ids) {
        const row = selectById.get(id);
        if (row) runs.push(fromRow(row));
      }
      return runs;
    },
    async getHistory(id) {
      return selectHistory.all(id);
    },
    async listRuns(filter: ListFilter) {
      const { rows, next, total } = selectRunPage<RunRow>(db, filter);
      return { runs: rows.map(fromRow), next, total };
    },
    async taskStats(since, minutes) {
      return selectTaskStats(db, since, minutes);
    },
    async listLogs(runId, after, limit) {
      return selectLogs.all(runId, after, limit);
    },
    async followLogs(runId, after, afterSeq, limit) {
      return selectLogsAfterSeq.all(runId, afterSeq, after, limit);
    },
    async nextScheduledAt(now) {
      return (selectNextDue.get(now) as number | null) ?? undefined;
    },
    async requeueAbandoned(now, deadServers) {
      const abandoned =
        deadServers === "all"
          ? ""
          : `AND (lease_deadline IS NULL OR lease_deadline <= @now OR timeout_at <= @now OR lease_server_id IS NULL
              OR lease_server_id IN (SELECT value FROM json_each(@dead)))`;
      const params = deadServers === "all" ? {} : { now, dead: JSON.stringify(deadServers) };
      return guarded(db.transaction(() => {
        const ids = db
          .prepare(`UPDATE task_runs SET state = 'SCHEDULED', worker_id = NULL, ${CLEAR_LEASE_SQL}
            WHERE state IN ('PENDING', 'RUNNING') ${abandoned} RETURNING id, attempts`)
          .all(params) as { id: string; attempts: number }[];
        for (const { id, attempts } of ids) {
          insertEvent.run(id, "SCHEDULED", now, attempts, "requeued: the server restarted while it ran");
        }
        return ids.length;
      }));
    },
    async leaseServerIds() {
      return db
        .prepare("SELECT DISTINCT lease_server_id FROM task_runs WHERE state IN ('PENDING', 'RUNNING') AND lease_server_id IS NOT NULL")
        .pluck()
        .all() as string[];
    },
    async requeueExpiredLeases(request) {
      const runs = guarded(() => requeueExpired(request));
      if (runs.length > 0) await changeFeed.publish(request.origin, changesOfExpiry(runs, request.now));
      return runs;
    },
    async nextLeaseDeadline(exceptServerId) {
      return (selectNextLeaseDeadline.get(exceptServerId) as number | null) ?? undefined;
    },
    async countByState() {
      const rows = db.prepare("SELECT state, count(*) AS n FROM task_runs GROUP BY state").all() as { state: RunState; n: number }[];
      return Object.fromEntries(rows.map((row) => [row.state, row.n]));
    },
    async setConcurrencyLimit({ tag, limit }) {
      guarded(() => db.prepare(`INSERT INTO concurrency_limits (tag, "limit") VALUES (?, ?)
        ON CONFLICT (tag) DO UPDATE SET "limit" = excluded."limit"`).run(tag, limit));
    },
    async deleteConcurrencyLimit(tag) {
      return guarded(() => db.prepare("DELETE FROM concurrency_limits WHERE tag = ?").run(tag).changes > 0);
    },
    async listConcurrencyLimits() {
      return db.prepare('SELECT tag, "limit" AS "limit" FROM concurrency_limits ORDER BY tag').all() as { tag: string; limit: number }[];
    },
    async countConcurrency() {
      return claims.countConcurrency();
    },
    async deleteFinished(cutoff, limit) {
      return guarded(db.transaction(() => {
        const ids = selectExpired.all(cutoff, limit) as string[];
        for (const id of ids) {
          deleteEvents.run(id);
          deleteLogs.run(id);
          deleteRun.run(id);
        }
        return ids.length;
      }));
    },
    fatalError() {
      return guard?.lostReason();
    },
    async close() {
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let i = version; i < SQLITE_MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[i]);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
