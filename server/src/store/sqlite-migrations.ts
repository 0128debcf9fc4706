/**
 * SQLite schema, in order. `PRAGMA user_version` records how many have run; a migration
 * is never edited once released, only followed by a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE task_runs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    task_key TEXT NOT NULL,
    state TEXT NOT NULL,
    parameters BLOB NOT NULL,
    parameters_type TEXT NOT NULL,
    options TEXT NOT NULL,
    priority INTEGER NOT NULL,
    idempotency_key TEXT,
    tags TEXT NOT NULL,
    result BLOB,
    result_type TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    retries_used INTEGER NOT NULL DEFAULT 0,
    redeliveries INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    scheduled_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    worker_id TEXT,
    foreground INTEGER NOT NULL DEFAULT 0
  );
  -- Claiming reads this index in dispatch order; partial, so finished runs cost nothing.
  CREATE INDEX task_runs_ready ON task_runs (task_key, priority DESC, scheduled_at, seq)
    WHERE state = 'SCHEDULED';
  CREATE INDEX task_runs_due ON task_runs (scheduled_at) WHERE state = 'SCHEDULED';
  CREATE INDEX task_runs_active ON task_runs (state) WHERE state IN ('PENDING', 'RUNNING');
  CREATE UNIQUE INDEX task_runs_idempotency ON task_runs (task_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

  CREATE TABLE task_run_events (
    run_id TEXT NOT NULL,
    state TEXT NOT NULL,
    at INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX task_run_events_run ON task_run_events (run_id);

  CREATE TABLE task_run_logs (
    run_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    attempt INTEGER NOT NULL
  );
  CREATE INDEX task_run_logs_run ON task_run_logs (run_id, at);
  `,
  `
  -- Retention deletes finished runs by end time.
  CREATE INDEX task_runs_ended ON task_runs (ended_at)
    WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED');
  `,
  `
  CREATE TABLE concurrency_limits (
    tag TEXT PRIMARY KEY,
    "limit" INTEGER NOT NULL
  );
  `,
  `
  -- A live log stream pages by rowid, the order lines were stored in (see followLogs): an
  -- index on run_id alone is ordered by (run_id, rowid).
  CREATE INDEX task_run_logs_run_rowid ON task_run_logs (run_id);
  `,
  `
  -- Leases are row facts, so any server can fence, extend and expire them.
  ALTER TABLE task_runs ADD COLUMN lease_token TEXT;
  ALTER TABLE task_runs ADD COLUMN lease_server_id TEXT;
  ALTER TABLE task_runs ADD COLUMN lease_session_id TEXT;
  ALTER TABLE task_runs ADD COLUMN lease_deadline INTEGER;
  ALTER TABLE task_runs ADD COLUMN timeout_at INTEGER;
  ALTER TABLE task_runs ADD COLUMN cancel_reason TEXT;
  -- A heartbeat extends the leases of one worker stream in one statement.
  CREATE INDEX task_runs_lease_session ON task_runs (lease_session_id)
    WHERE lease_session_id IS NOT NULL;
  `,
  `
  -- Open worker streams, so that any server (and the CLI, the UI) can list them.
  CREATE TABLE worker_sessions (
    session_id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    task_keys TEXT NOT NULL,
    "limit" INTEGER NOT NULL,
    language TEXT NOT NULL,
    sdk_version TEXT NOT NULL,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    connected_at INTEGER NOT NULL,
    last_heartbeat_at INTEGER
  );
  `,
  `
  -- The runs list pages newest first by seq under any one filter (see runPageQuery): each
  -- index below holds its column then the rowid, which is seq, so a filter matching ten
  -- runs of a million reads ten index entries instead of scanning the table.
  CREATE INDEX task_runs_state ON task_runs (state);
  CREATE INDEX task_runs_task_key ON task_runs (task_key);
  CREATE INDEX task_runs_worker ON task_runs (worker_id) WHERE worker_id IS NOT NULL;
  CREATE INDEX task_runs_created ON task_runs (created_at);
  -- Tags are a JSON array, which no index holds: one row per tag and run, kept by
  -- triggers (a run's tags never change after it is stored).
  CREATE TABLE task_run_tags (
    tag TEXT NOT NULL,
    run_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, run_seq)
  ) WITHOUT ROWID;
  INSERT INTO task_run_tags (tag, run_seq)
    SELECT DISTINCT t.value, r.seq FROM task_runs r, json_each(r.tags) t;
  CREATE TRIGGER task_run_tags_insert AFTER INSERT ON task_runs BEGIN
    INSERT OR IGNORE INTO task_run_tags (tag, run_seq) SELECT value, NEW.seq FROM json_each(NEW.tags);
  END;
  CREATE TRIGGER task_run_tags_delete AFTER DELETE ON task_runs BEGIN
    DELETE FROM task_run_tags WHERE run_seq = OLD.seq AND tag IN (SELECT value FROM json_each(OLD.tags));
  END;
  `,
  `
  -- Every claim added an entry and every end of an attempt removed one: a WAL page in each
  -- of the two commits of a delay-and-result round trip (14 pages instead of 12). A
  -- heartbeat finds its stream's leases through task_runs_active instead, which holds
  -- only leased runs, as many as the workers' limits allow.
  DROP INDEX task_runs_lease_session;
  `,
];
