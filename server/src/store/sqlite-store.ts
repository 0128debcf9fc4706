import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { createDatabaseFileGuard, type DatabaseFileLostError } from "./database-file-guard.js";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations.js";
import { selectRunPage, selectTaskStats } from "./sqlite-run-queries.js";
import type {
  ClaimRequest,
  CommitResult,
  ListFilter,
  LogRecord,
  SequencedLogRecord,
  NewRun,
  RunPatch,
  RunRecord,
  RunState,
  Store,
  Transition,
  TransitionRecord,
  WriteBatch,
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

interface RunRow {
  seq: number;
  id: string;
  task_key: string;
  state: RunState;
  parameters: Buffer;
  parameters_type: string;
  options: string;
  result: Buffer | null;
  result_type: string | null;
  error: string | null;
  attempts: number;
  retries_used: number;
  redeliveries: number;
  created_at: number;
  scheduled_at: number;
  started_at: number | null;
  ended_at: number | null;
  worker_id: string | null;
  foreground: number;
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
};

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
  const findIdempotent = db
    .prepare("SELECT id FROM task_runs WHERE task_key = ? AND idempotency_key = ?")
    .pluck();
  const insertEvent = db.prepare(
    "INSERT INTO task_run_events (run_id, state, at, attempt, message) VALUES (?, ?, ?, ?, ?)",
  );
  const insertLog = db.prepare(
    "INSERT INTO task_run_logs (run_id, at, level, message, attempt) VALUES (?, ?, ?, ?, ?)",
  );
  const selectReady = db.prepare<[string, number, number], RunRow>(`
    SELECT * FROM task_runs INDEXED BY task_runs_ready
    WHERE task_key = ? AND state = 'SCHEDULED' AND scheduled_at <= ?
    ORDER BY priority DESC, scheduled_at, seq LIMIT ?`);
  // The same, leaving out runs that carry a tag at its concurrency limit (a JSON array).
  const selectReadyExcluding = db.prepare<[string, number, string, number], RunRow>(`
    SELECT * FROM task_runs INDEXED BY task_runs_ready
    WHERE task_key = ? AND state = 'SCHEDULED' AND scheduled_at <= ?
      AND NOT EXISTS (SELECT 1 FROM json_each(task_runs.tags) AS t WHERE t.value IN (SELECT value FROM json_each(?)))
    ORDER BY priority DESC, scheduled_at, seq LIMIT ?`);
  const markPending = db.prepare(
    "UPDATE task_runs SET state = 'PENDING', attempts = attempts + 1, worker_id = ? WHERE seq = ?",
  );
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
    const cacheKey = `${keys.join(",")}|${transition.from.join(",")}`;
    let statement = updateStatements.get(cacheKey);
    if (!statement) {
      const sets = keys.map((key) => PATCH_SQL[key]).join(", ");
      const from = transition.from.map((state) => `'${state}'`).join(", ");
      statement = db.prepare(`UPDATE task_runs SET ${sets} WHERE id = @id AND state IN (${from})`);
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

  function claim(request: ClaimRequest, exhausted: Set<string>): RunRecord[] {
    // Each key yields up to `max`; the keys are then interleaved so that a worker serving
    // several keys gets them in turn rather than one key's backlog first.
    const perKey: RunRow[][] = [];
    const excluded = request.excludeTags ?? [];
    for (const key of request.taskKeys) {
      if (exhausted.has(key) || excluded.includes(`task_key:${key}`)) continue;
      const rows =
        excluded.length === 0
          ? selectReady.all(key, request.now, request.max)
          : selectReadyExcluding.all(key, request.now, JSON.stringify(excluded), request.max);
      if (rows.length < request.max) exhausted.add(key);
      if (rows.length > 0) perKey.push(rows);
    }
    const picked: RunRow[] = [];
    for (let i = 0; picked.length < request.max; i++) {
      let any = false;
      for (const rows of perKey) {
        if (i < rows.length && picked.length < request.max) {
          picked.push(rows[i]);
          any = true;
        }
      }
      if (!any) break;
    }
    // Rows read but not picked stay SCHEDULED; the key is not exhausted then.
    if (picked.length === request.max) {
      for (const rows of perKey) {
        if (rows.some((row) => !picked.includes(row))) exhausted.delete(rows[0].task_key);
      }
    }
    const claimed: RunRecord[] = [];
    for (const row of picked) {
      const record = fromRow(row);
      if (request.admit && !request.admit(record)) continue;
      markPending.run(request.workerId, row.seq);
      record.state = "PENDING";
      record.attempts += 1;
      record.workerId = request.workerId;
      insertEvent.run(record.id, "PENDING", request.now, record.attempts, "");
      claimed.push(record);
    }
    return claimed;
  }

  const commitTransaction = db.transaction((batch: WriteBatch): CommitResult => {
    const inserted = batch.inserts.map(insert);
    const applied = batch.transitions.map(applyTransition);
    for (const line of batch.logs) insertLog.run(line.runId, line.at, line.level, line.message, line.attempt);
    const exhausted = new Set<string>();
    const claimed = batch.claims.map((request) => claim(request, exhausted));
    return { inserted, applied, claimed };
  });

  /**
   * Runs a write, then checks that the file written is still the database file before the
   * write is reported done: after a delete or a replace it would be lost at the next start.
   */
  function guarded<T>(write: () => T): T {
    guard?.check();
    const result = write();
    guard?.check();
    return result;
  }

  return {
    database: db,
    location: options.path === ":memory:" ? "sqlite::memory:" : `sqlite:${options.path}`,
    async commit(batch) {
      return guarded(() => commitTransaction(batch));
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
    async requeueAbandoned(now) {
      return guarded(db.transaction(() => {
        const ids = db
          .prepare("SELECT id, attempts FROM task_runs WHERE state IN ('PENDING', 'RUNNING')")
          .all() as { id: string; attempts: number }[];
        db.prepare(
          "UPDATE task_runs SET state = 'SCHEDULED', worker_id = NULL WHERE state IN ('PENDING', 'RUNNING')",
        ).run();
        for (const { id, attempts } of ids) {
          insertEvent.run(id, "SCHEDULED", now, attempts, "requeued: the server restarted while it ran");
        }
        return ids.length;
      }));
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

function toRow(run: RunRecord): Omit<RunRow, "seq"> & { priority: number; idempotency_key: string | null; tags: string } {
  return {
    id: run.id,
    task_key: run.taskKey,
    state: run.state,
    parameters: Buffer.from(run.parameters.data),
    parameters_type: run.parameters.contentType,
    options: JSON.stringify(run.options),
    priority: run.options.priority,
    idempotency_key: run.options.idempotencyKey || null,
    tags: JSON.stringify(run.options.tags),
    result: run.result ? Buffer.from(run.result.data) : null,
    result_type: run.result?.contentType ?? null,
    error: run.error ? JSON.stringify(run.error) : null,
    attempts: run.attempts,
    retries_used: run.retriesUsed,
    redeliveries: run.redeliveries,
    created_at: run.createdAt,
    scheduled_at: run.scheduledAt,
    started_at: run.startedAt ?? null,
    ended_at: run.endedAt ?? null,
    worker_id: run.workerId ?? null,
    foreground: run.foreground ? 1 : 0,
  };
}

function fromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    taskKey: row.task_key,
    state: row.state,
    parameters: { contentType: row.parameters_type, data: row.parameters },
    options: JSON.parse(row.options),
    result: row.result ? { contentType: row.result_type ?? "", data: row.result } : undefined,
    error: row.error ? JSON.parse(row.error) : undefined,
    attempts: row.attempts,
    retriesUsed: row.retries_used,
    redeliveries: row.redeliveries,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at ?? undefined,
    endedAt: row.ended_at ?? undefined,
    workerId: row.worker_id ?? undefined,
    foreground: row.foreground === 1,
  };
}
