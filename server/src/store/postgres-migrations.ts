import type { ClientBase } from "pg";

/**
 * PostgreSQL schema, in order; `taskwire_migrations` records which versions ran. A
 * migration is never edited once released, only followed by a new one. Times are bigint
 * milliseconds since the epoch, as in the store contract.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE task_runs (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    task_key text NOT NULL,
    state text NOT NULL,
    parameters bytea NOT NULL,
    parameters_type text NOT NULL,
    options jsonb NOT NULL,
    priority integer NOT NULL,
    idempotency_key text,
    tags text[] NOT NULL,
    result bytea,
    result_type text,
    error jsonb,
    attempts integer NOT NULL DEFAULT 0,
    retries_used integer NOT NULL DEFAULT 0,
    redeliveries integer NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    scheduled_at bigint NOT NULL,
    started_at bigint,
    ended_at bigint,
    worker_id text,
    foreground boolean NOT NULL DEFAULT false
  );
  -- Claiming reads this index in dispatch order; partial, so finished runs cost nothing.
  CREATE INDEX task_runs_ready ON task_runs (task_key, priority DESC, scheduled_at, seq)
    WHERE state = 'SCHEDULED';
  CREATE INDEX task_runs_due ON task_runs (scheduled_at) WHERE state = 'SCHEDULED';
  CREATE INDEX task_runs_active ON task_runs (state) WHERE state IN ('PENDING', 'RUNNING');
  CREATE UNIQUE INDEX task_runs_idempotency ON task_runs (task_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
  -- Retention deletes finished runs by end time.
  CREATE INDEX task_runs_ended ON task_runs (ended_at)
    WHERE state IN ('COMPLETED', 'FAILED', 'CANCELLED');

  -- History and logs are read back in insertion order (id), per run.
  CREATE TABLE task_run_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id text NOT NULL,
    state text NOT NULL,
    at bigint NOT NULL,
    attempt integer NOT NULL,
    message text NOT NULL
  );
  CREATE INDEX task_run_events_run ON task_run_events (run_id, id);

  CREATE TABLE task_run_logs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id text NOT NULL,
    at bigint NOT NULL,
    level text NOT NULL,
    message text NOT NULL,
    attempt integer NOT NULL
  );
  CREATE INDEX task_run_logs_run ON task_run_logs (run_id, at, id);

  CREATE TABLE concurrency_limits (
    tag text PRIMARY KEY,
    "limit" integer NOT NULL
  );
  `,
  `
  -- A live log stream pages by id, the order lines were stored in (see followLogs).
  CREATE INDEX task_run_logs_run_id ON task_run_logs (run_id, id);
  `,
  `
  -- Leases are row facts, so any server can fence, extend and expire them.
  ALTER TABLE task_runs
    ADD COLUMN lease_token text,
    ADD COLUMN lease_server_id text,
    ADD COLUMN lease_session_id text,
    ADD COLUMN lease_deadline bigint,
    ADD COLUMN timeout_at bigint,
    ADD COLUMN cancel_reason text;
  -- A heartbeat extends the leases of one worker stream in one statement.
  CREATE INDEX task_runs_lease_session ON task_runs (lease_session_id)
    WHERE lease_session_id IS NOT NULL;
  `,
  `
  -- Open worker streams, so that any server (and the CLI, the UI) can list them.
  CREATE TABLE worker_sessions (
    session_id text PRIMARY KEY,
    server_id text NOT NULL,
    worker_id text NOT NULL,
    task_keys text[] NOT NULL,
    "limit" integer NOT NULL,
    language text NOT NULL,
    sdk_version text NOT NULL,
    hostname text NOT NULL,
    pid integer NOT NULL,
    connected_at bigint NOT NULL,
    last_heartbeat_at bigint
  );
  `,
  `
  -- The runs list pages newest first by seq under any one filter (see runPageQuery): a
  -- filter matching ten runs of a million reads ten index entries, not the table.
  CREATE INDEX task_runs_state ON task_runs (state, seq);
  CREATE INDEX task_runs_task_key ON task_runs (task_key, seq);
  CREATE INDEX task_runs_worker ON task_runs (worker_id, seq) WHERE worker_id IS NOT NULL;
  CREATE INDEX task_runs_created ON task_runs (created_at);
  -- One row per tag and run, newest first by run_seq: a GIN index on tags finds a tag's
  -- runs only in no order, to be sorted whole for each page. Kept by statement triggers
  -- (one INSERT per batch of runs; a run's tags never change after it is stored).
  CREATE TABLE task_run_tags (
    tag text NOT NULL,
    run_seq bigint NOT NULL,
    PRIMARY KEY (tag, run_seq)
  );
  INSERT INTO task_run_tags (tag, run_seq) SELECT DISTINCT unnest(tags), seq FROM task_runs;
  CREATE FUNCTION task_run_tags_insert() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO task_run_tags (tag, run_seq) SELECT DISTINCT unnest(tags), seq FROM inserted_runs;
    RETURN NULL;
  END $$;
  CREATE TRIGGER task_run_tags_insert AFTER INSERT ON task_runs
    REFERENCING NEW TABLE AS inserted_runs FOR EACH STATEMENT EXECUTE FUNCTION task_run_tags_insert();
  CREATE FUNCTION task_run_tags_delete() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM task_run_tags t USING (SELECT unnest(tags) AS tag, seq FROM deleted_runs) d
      WHERE t.tag = d.tag AND t.run_seq = d.seq;
    RETURN NULL;
  END $$;
  CREATE TRIGGER task_run_tags_delete AFTER DELETE ON task_runs
    REFERENCING OLD TABLE AS deleted_runs FOR EACH STATEMENT EXECUTE FUNCTION task_run_tags_delete();
  -- LIKE 'prefix%' in any collation (the id's unique index serves it only under "C").
  CREATE INDEX task_runs_id_prefix ON task_runs (id text_pattern_ops);
  `,
];

/**
 * Brings the schema up to date in one transaction, under an advisory lock: servers that
 * start at once on an empty database wait for the first one's migrations instead of
 * racing it to CREATE TABLE. Returns the versions it applied.
 */
export async function migratePostgres(client: ClientBase): Promise<number[]> {
  await client.query("BEGIN");
  try {
    // Held until COMMIT or ROLLBACK; the key is "taskwire" (0x7461736b) and 1 for migrations.
    await client.query("SELECT pg_advisory_xact_lock(1952543595, 1)");
    await client.query(`CREATE TABLE IF NOT EXISTS taskwire_migrations (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>("SELECT version FROM taskwire_migrations");
    const done = new Set(rows.map((row) => row.version));
    const applied: number[] = [];
    for (let i = 0; i < POSTGRES_MIGRATIONS.length; i++) {
      const version = i + 1;
      if (done.has(version)) continue;
      await client.query(POSTGRES_MIGRATIONS[i]);
      await client.query("INSERT INTO taskwire_migrations (version) VALUES ($1)", [version]);
      applied.push(version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
