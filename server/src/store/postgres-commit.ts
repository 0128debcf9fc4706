import type { ClientBase } from "pg";
import { type ConcurrencyAdmission, createConcurrencyAdmission } from "./concurrency-admission.js";
import { encodeChanges } from "./change-feed.js";
import { claimRuns } from "./postgres-claim.js";
import { touchWorkerSessions } from "./postgres-worker-sessions.js";
import { toBuffer } from "./postgres-run-row.js";
import type { CommitResult, LeaseExtension, LogRecord, NewRun, Transition, TransitionRecord, WriteBatch } from "./store.js";

type RunEvent = TransitionRecord & { runId: string };

/**
 * Writes one batch inside the caller's transaction, with a fixed number of statements
 * whatever its size: one INSERT for the new runs, one UPDATE per group of transitions, one
 * statement per claim request, one INSERT for all history rows and one for all log lines.
 * The statements are named, so each connection prepares them once: planning the claim
 * alone cost 0.8 ms, a third of its execution with 20,000 runs queued (EXPLAIN ANALYZE).
 */
export async function commitBatch(client: ClientBase, batch: WriteBatch, channel: string): Promise<CommitResult> {
  const events: RunEvent[] = [];
  const logs: LogRecord[] = [];
  const inserted = await insertRuns(client, batch.inserts, events, logs);
  const applied = await applyTransitions(client, batch.transitions, events);
  logs.push(...batch.logs);
  const exhausted = new Set<string>();
  const claimed = [];
  const limited = [];
  const admission = batch.claims.length > 0 ? await lockConcurrency(client) : undefined;
  for (const request of batch.claims) {
    const claim = await claimRuns(client, request, exhausted, events, admission ?? createConcurrencyAdmission([]));
    claimed.push(claim.runs);
    limited.push(claim.limited);
  }
  const extended = await extendLeases(client, batch.extensions);
  await touchWorkerSessions(client, batch.extensions);
  await insertEvents(client, events);
  await insertLogs(client, logs);
  // Inside the transaction: the other servers hear of it once committed, and only then.
  const payloads = batch.changes ? encodeChanges(batch.changes.origin, batch.changes.changes) : [];
  if (payloads.length > 0) {
    await client.query({ name: "taskwire_notify", text: "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", values: [channel, payloads] });
  }
  return { inserted, applied, claimed, extended, limited };
}

/** Locks every concurrency limit: claims on several servers take their slots one at a time. */
const LOCK_LIMITS = {
  name: "taskwire_lock_limits",
  text: `SELECT tag, "limit" FROM concurrency_limits ORDER BY tag FOR UPDATE`,
};

export const COUNT_CONCURRENCY = `
  SELECT l.tag, l."limit", (
    SELECT count(*) FROM task_runs AS r
    WHERE r.state IN ('PENDING', 'RUNNING') AND (l.tag = ANY (r.tags) OR 'task_key:' || r.task_key = l.tag)
  )::integer AS active
  FROM concurrency_limits AS l ORDER BY l.tag`;

/**
 * With limits set, claims serialize on their rows, then count the leased runs in a second
 * statement: under READ COMMITTED a statement sees what committed before it began, so a
 * count in the locking statement could miss the runs of the claim it waited for. Without
 * limits this is one statement that finds no row and locks nothing.
 */
async function lockConcurrency(client: ClientBase): Promise<ConcurrencyAdmission> {
  const { rows } = await client.query<{ tag: string }>(LOCK_LIMITS);
  if (rows.length === 0) return createConcurrencyAdmission([]);
  const counted = await client.query<{ tag: string; limit: number; active: number }>({
    name: "taskwire_count_concurrency",
    text: COUNT_CONCURRENCY,
  });
  return createConcurrencyAdmission(counted.rows);
}

// Priority, idempotency key and tags are columns for the indexes; they come from `options`.
const INSERT_RUNS = {
  name: "taskwire_insert_runs",
  text: `
  INSERT INTO task_runs (id, task_key, state, parameters, parameters_type, options, priority,
    idempotency_key, tags, result, result_type, error, attempts, retries_used, redeliveries,
    created_at, scheduled_at, started_at, ended_at, worker_id, foreground)
  SELECT v.id, v.task_key, v.state, v.parameters, v.parameters_type, v.options,
    (v.options->>'priority')::integer, NULLIF(v.options->>'idempotencyKey', ''),
    ARRAY(SELECT jsonb_array_elements_text(v.options->'tags')),
    v.result, v.result_type, v.error, v.attempts, v.retries_used, v.redeliveries,
    v.created_at, v.scheduled_at, v.started_at, v.ended_at, v.worker_id, v.foreground
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::jsonb[], $7::bytea[],
    $8::text[], $9::jsonb[], $10::integer[], $11::integer[], $12::integer[], $13::bigint[],
    $14::bigint[], $15::bigint[], $16::bigint[], $17::text[], $18::boolean[])
    AS v (id, task_key, state, parameters, parameters_type, options, result, result_type, error,
      attempts, retries_used, redeliveries, created_at, scheduled_at, started_at, ended_at,
      worker_id, foreground)
  ON CONFLICT DO NOTHING
  RETURNING id`,
};

const FIND_EXISTING = {
  name: "taskwire_find_existing",
  text: `
  SELECT id, task_key, idempotency_key FROM task_runs
  WHERE id = ANY ($1::text[])
    OR (task_key, idempotency_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
};

/**
 * A run whose task key and idempotency key exist already is not inserted; the existing id
 * is returned instead. Two such runs in one batch resolve to the first, as on SQLite.
 * A run whose own id exists already was stored by an earlier try of this batch whose
 * COMMIT was in doubt (the connection broke before its answer): it counts as inserted,
 * so the broker's retry of the batch does not fail on the id forever.
 */
async function insertRuns(client: ClientBase, inserts: NewRun[], events: RunEvent[], logs: LogRecord[]) {
  if (inserts.length === 0) return [];
  const idempotencyKey = (run: NewRun) =>
    run.record.options.idempotencyKey ? `${run.record.taskKey}\u0000${run.record.options.idempotencyKey}` : undefined;
  const firstByKey = new Map<string, NewRun>();
  const fresh: NewRun[] = [];
  for (const run of inserts) {
    const key = idempotencyKey(run);
    if (key !== undefined) {
      if (firstByKey.has(key)) continue;
      firstByKey.set(key, run);
    }
    fresh.push(run);
  }
  const records = fresh.map((run) => run.record);
  const column = <T>(pick: (run: (typeof records)[number]) => T) => records.map(pick);
  const { rows } = await client.query<{ id: string }>({
    ...INSERT_RUNS,
    values: [
      column((r) => r.id),
      column((r) => r.taskKey),
      column((r) => r.state),
      column((r) => toBuffer(r.parameters.data)),
      column((r) => r.parameters.contentType),
      column((r) => JSON.stringify(r.options)),
      column((r) => toBuffer(r.result?.data)),
      column((r) => r.result?.contentType ?? null),
      column((r) => (r.error ? JSON.stringify(r.error) : null)),
      column((r) => r.attempts),
      column((r) => r.retriesUsed),
      column((r) => r.redeliveries),
      column((r) => r.createdAt),
      column((r) => r.scheduledAt),
      column((r) => r.startedAt ?? null),
      column((r) => r.endedAt ?? null),
      column((r) => r.workerId ?? null),
      column((r) => r.foreground),
    ],
  });
  const stored = new Set(rows.map((row) => row.id));
  for (const run of fresh) {
    if (!stored.has(run.record.id)) continue;
    for (const event of run.history) events.push({ ...event, runId: run.record.id });
    logs.push(...run.logs);
  }
  // Runs not inserted: stored before under their own id, or under their idempotency key.
  const existingId = new Map<string, string>();
  const conflicting = fresh.filter((run) => !stored.has(run.record.id));
  if (conflicting.length > 0) {
    const keyed = conflicting.filter((run) => run.record.options.idempotencyKey);
    const found = await client.query<{ id: string; task_key: string; idempotency_key: string | null }>({
      ...FIND_EXISTING,
      values: [
        conflicting.map((run) => run.record.id),
        keyed.map((run) => run.record.taskKey),
        keyed.map((run) => run.record.options.idempotencyKey),
      ],
    });
    for (const row of found.rows) {
      stored.add(row.id);
      if (row.idempotency_key !== null) existingId.set(`${row.task_key}\u0000${row.idempotency_key}`, row.id);
    }
  }
  return inserts.map((run) => {
    const key = idempotencyKey(run);
    const first = key === undefined ? run : (firstByKey.get(key) ?? run);
    if (stored.has(first.record.id)) return { id: first.record.id, existing: first !== run };
    const id = key === undefined ? undefined : existingId.get(key);
    if (id === undefined) throw new Error(`run ${run.record.id} was neither inserted nor found by its idempotency key`);
    return { id, existing: true };
  });
}

// Bits of `fields`: which patch fields a transition sets (a field set to undefined is NULL).
const FIELD_BITS = {
  result: 1,
  error: 2,
  attempts: 4,
  retriesUsed: 8,
  redeliveries: 16,
  scheduledAt: 32,
  startedAt: 64,
  endedAt: 128,
  workerId: 256,
  leaseDeadline: 512,
  timeoutAt: 1024,
} as const;

const APPLY_TRANSITIONS = {
  name: "taskwire_apply_transitions",
  text: `
  UPDATE task_runs AS t SET
    state = v.state,
    result = CASE WHEN v.fields & 1 <> 0 THEN v.result ELSE t.result END,
    result_type = CASE WHEN v.fields & 1 <> 0 THEN v.result_type ELSE t.result_type END,
    error = CASE WHEN v.fields & 2 <> 0 THEN v.error ELSE t.error END,
    attempts = CASE WHEN v.fields & 4 <> 0 THEN v.attempts ELSE t.attempts END,
    retries_used = CASE WHEN v.fields & 8 <> 0 THEN v.retries_used ELSE t.retries_used END,
    redeliveries = CASE WHEN v.fields & 16 <> 0 THEN v.redeliveries ELSE t.redeliveries END,
    scheduled_at = CASE WHEN v.fields & 32 <> 0 THEN v.scheduled_at ELSE t.scheduled_at END,
    started_at = CASE WHEN v.fields & 64 <> 0 THEN v.started_at ELSE t.started_at END,
    ended_at = CASE WHEN v.fields & 128 <> 0 THEN v.ended_at ELSE t.ended_at END,
    worker_id = CASE WHEN v.fields & 256 <> 0 THEN v.worker_id ELSE t.worker_id END,
    -- A transition out of PENDING/RUNNING ends the lease: its columns are cleared.
    lease_deadline = CASE WHEN v.state NOT IN ('PENDING', 'RUNNING') THEN NULL
      WHEN v.fields & 512 <> 0 THEN v.lease_deadline ELSE t.lease_deadline END,
    timeout_at = CASE WHEN v.state NOT IN ('PENDING', 'RUNNING') THEN NULL
      WHEN v.fields & 1024 <> 0 THEN v.timeout_at ELSE t.timeout_at END,
    lease_token = CASE WHEN v.state IN ('PENDING', 'RUNNING') THEN t.lease_token END,
    lease_server_id = CASE WHEN v.state IN ('PENDING', 'RUNNING') THEN t.lease_server_id END,
    lease_session_id = CASE WHEN v.state IN ('PENDING', 'RUNNING') THEN t.lease_session_id END,
    cancel_reason = CASE WHEN v.state IN ('PENDING', 'RUNNING') THEN t.cancel_reason END
  FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::bytea[], $6::text[], $7::jsonb[],
    $8::integer[], $9::integer[], $10::integer[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[],
    $15::bigint[], $16::bigint[], $17::integer[], $18::text[], $19::bigint[])
    AS v (id, from_states, fields, state, result, result_type, error, attempts, retries_used,
      redeliveries, scheduled_at, started_at, ended_at, worker_id, lease_deadline, timeout_at,
      fence_attempt, fence_token, fence_expired_at)
  WHERE t.id = v.id AND t.state = ANY (string_to_array(v.from_states, ','))
    -- Fencing: a transition about a lease applies only while the run is still under it.
    AND (v.fence_token IS NULL OR (t.attempts = v.fence_attempt AND t.lease_token = v.fence_token))
    -- An expiry: only while the lease (or the attempt's timeout) has still run out.
    AND (v.fence_expired_at IS NULL OR t.lease_deadline <= v.fence_expired_at OR t.timeout_at <= v.fence_expired_at)
  RETURNING t.id`,
};

/**
 * Transitions apply in order, each only from its `from` states. One UPDATE covers a group
 * in which no run appears twice; a run's second transition in the batch starts the next
 * group, so it sees the first one's outcome, as it would applied one by one.
 */
async function applyTransitions(client: ClientBase, transitions: Transition[], events: RunEvent[]): Promise<boolean[]> {
  const applied: boolean[] = [];
  let start = 0;
  while (start < transitions.length) {
    const seen = new Set<string>();
    let end = start;
    while (end < transitions.length && !seen.has(transitions[end].runId)) seen.add(transitions[end++].runId);
    const group = transitions.slice(start, end);
    const { rows } = await client.query<{ id: string }>({ ...APPLY_TRANSITIONS, values: transitionColumns(group) });
    const changed = new Set(rows.map((row) => row.id));
    for (const transition of group) {
      const ok = changed.has(transition.runId);
      applied.push(ok);
      if (ok) for (const event of transition.events) events.push({ ...event, runId: transition.runId });
    }
    start = end;
  }
  return applied;
}

function transitionColumns(group: Transition[]): unknown[] {
  const fields = (t: Transition) =>
    Object.keys(t.patch).reduce((bits, key) => bits | (FIELD_BITS[key as keyof typeof FIELD_BITS] ?? 0), 0);
  const column = <T>(pick: (patch: Transition["patch"]) => T) => group.map((t) => pick(t.patch));
  return [
    group.map((t) => t.runId),
    group.map((t) => t.from.join(",")),
    group.map(fields),
    column((p) => p.state),
    column((p) => toBuffer(p.result?.data)),
    column((p) => p.result?.contentType ?? null),
    column((p) => (p.error ? JSON.stringify(p.error) : null)),
    column((p) => p.attempts ?? null),
    column((p) => p.retriesUsed ?? null),
    column((p) => p.redeliveries ?? null),
    column((p) => p.scheduledAt ?? null),
    column((p) => p.startedAt ?? null),
    column((p) => p.endedAt ?? null),
    column((p) => p.workerId ?? null),
    column((p) => p.leaseDeadline ?? null),
    column((p) => p.timeoutAt ?? null),
    group.map((t) => t.lease?.attempt ?? null),
    group.map((t) => t.lease?.token ?? null),
    group.map((t) => t.lease?.expiredAt ?? null),
  ];
}

const EXTEND_LEASES = {
  name: "taskwire_extend_leases",
  text: `
  UPDATE task_runs AS t SET lease_deadline = greatest(t.lease_deadline, v.deadline)
  FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v (session_id, token, deadline)
  WHERE t.lease_session_id = v.session_id AND t.lease_token = v.token
  RETURNING t.lease_token`,
};

/** Heartbeats: one statement for every stream's extensions in the batch. */
async function extendLeases(client: ClientBase, extensions: LeaseExtension[]): Promise<string[][]> {
  const flat = extensions.flatMap((e) => e.tokens.map((token) => ({ session: e.sessionId, token, deadline: e.deadline })));
  if (flat.length === 0) return extensions.map(() => []);
  const { rows } = await client.query<{ lease_token: string }>({
    ...EXTEND_LEASES,
    values: [flat.map((f) => f.session), flat.map((f) => f.token), flat.map((f) => f.deadline)],
  });
  const moved = new Set(rows.map((row) => row.lease_token));
  return extensions.map((e) => e.tokens.filter((token) => moved.has(token)));
}

const INSERT_EVENTS = {
  name: "taskwire_insert_events",
  text: `
  INSERT INTO task_run_events (run_id, state, at, attempt, message)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::text[])`,
};

async function insertEvents(client: ClientBase, events: RunEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query({
    ...INSERT_EVENTS,
    values: [
      events.map((e) => e.runId),
      events.map((e) => e.state),
      events.map((e) => e.at),
      events.map((e) => e.attempt),
      events.map((e) => e.message),
    ],
  });
}

const INSERT_LOGS = {
  name: "taskwire_insert_logs",
  text: `
  INSERT INTO task_run_logs (run_id, at, level, message, attempt)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::integer[])`,
};

async function insertLogs(client: ClientBase, logs: LogRecord[]): Promise<void> {
  if (logs.length === 0) return;
  await client.query({
    ...INSERT_LOGS,
    values: [
      logs.map((l) => l.runId),
      logs.map((l) => l.at),
      logs.map((l) => l.level),
      logs.map((l) => l.message),
      logs.map((l) => l.attempt),
    ],
  });
}
