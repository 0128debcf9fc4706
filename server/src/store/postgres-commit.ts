import type { ClientBase, QueryResult } from "pg";
import { type ConcurrencyAdmission, createConcurrencyAdmission } from "./concurrency-admission.js";
import { encodeChanges } from "./change-feed.js";
import { type ClaimedRow, claimNeedsNoProbe, claimRuns, sendClaim, settleClaim, unclaim } from "./postgres-claim.js";
import { mergeClaimRequests } from "./postgres-claim-merge.js";
import { touchWorkerSessions } from "./postgres-worker-sessions.js";
import { endCommit, type RunEvent } from "./postgres-commit-end.js";
import { commitTransitionsAlone, isTransitionsAlone } from "./postgres-transitions-alone.js";
import { APPLY_TRANSITIONS_SQL, transitionColumns } from "./postgres-transition-update.js";
import { toBuffer } from "./postgres-run-row.js";
import type { ClaimRequest, CommitResult, LeaseExtension, LogRecord, NewRun, RunRecord, Transition, WriteBatch } from "./store.js";

/**
 * Writes one batch as one transaction in two round trips, whatever its size. The
 * connection pipelines (node-postgres `pipeline`): statements go out without waiting for
 * the answers before them, and the database runs them in order. The first round trip
 * carries everything no statement needs an answer for: BEGIN (with the lock on the limits),
 * one INSERT for the new runs, one UPDATE per group of transitions, the count of leased
 * runs, the claims, the lease extensions. The second carries what depends on those
 * answers: refused claims put back, history rows, log lines, NOTIFY and COMMIT
 * (postgres-commit-end.ts). Sent one after the other, a drain commit took four round trips
 * and a W2 commit four. A statement's error fails those after it in the transaction, and
 * the caller rolls back. The statements with parameters are named, so each connection
 * prepares them once: planning the claim alone cost 0.8 ms, a third of its execution with
 * 20,000 runs queued (EXPLAIN ANALYZE).
 */
export async function commitBatch(client: ClientBase, batch: WriteBatch, channel: string, state: CommitState): Promise<CommitResult> {
  if (isTransitionsAlone(batch)) return commitTransitionsAlone(client, batch, channel);
  const sent = createRoundTrip();
  const hasClaims = batch.claims.length > 0;
  // With claims, BEGIN and the lock on the limits travel as one query (see lockLimits).
  const lockedLimits = sent.add(hasClaims ? beginLockingLimits(client) : client.query("BEGIN").then(() => 0));
  const insert = prepareInsert(batch.inserts);
  const inserted = sent.add(sendInsert(client, insert));
  const transitionGroups = groupTransitions(batch.transitions);
  const appliedRows = transitionGroups.map((group) => sent.add(sendTransitions(client, group)));
  const counted = hasClaims ? sent.add(countConcurrency(client)) : undefined;
  const merged = mergeClaimRequests(batch.claims);
  // Claims go in the first round trip unless a limit was seen last time (then they wait for
  // the count, to leave saturated tags out), one must first probe which keys are due, or
  // two share a task key: one after the other, the second may take the runs the first
  // turned away (its worker's byte budget) and put back; sent together, it would not, and
  // come back short, and the key would be taken for dry with those runs still queued.
  const early =
    !state.limitsSeen &&
    merged.every((claim) => claimNeedsNoProbe(claim.request) && !claim.request.excludeTags?.length) &&
    noKeyShared(merged.map((claim) => claim.request));
  const earlyRows = early ? merged.map((claim) => sent.add(sendEarlyClaim(client, claim.request))) : [];
  const extended = sent.add(extendLeases(client, batch.extensions));
  void sent.add(touchWorkerSessions(client, batch.extensions));
  await sent.settled();

  if (hasClaims) state.limitsSeen = (await lockedLimits) > 0;
  const events: RunEvent[] = [];
  const logs: LogRecord[] = [];
  const insertedIds = await settleInserts(client, insert, await inserted, events, logs);
  const applied: boolean[] = [];
  for (const [i, group] of transitionGroups.entries()) settleTransitions(group, await appliedRows[i], applied, events);
  logs.push(...batch.logs);
  const admission = counted ? await counted : createConcurrencyAdmission([]);
  const exhausted = new Set<string>();
  const claimed: RunRecord[][] = [];
  const limited: boolean[] = [];
  for (const [i, claim] of merged.entries()) {
    let result: { runs: RunRecord[]; limited: boolean };
    if (early) {
      const { request } = claim;
      // As a claim after the count would be: limited when a tag is at its limit already.
      const saturated = admission.saturated().length > 0;
      const settled = settleClaim(await earlyRows[i], request, request.taskKeys, false, exhausted, events, admission);
      await unclaim(client, settled.refused);
      result = { runs: settled.runs, limited: settled.limited || saturated };
    } else {
      result = await claimRuns(client, claim.request, exhausted, events, admission);
    }
    claimed.push(...claim.split(result.runs));
    for (const _ of claim.members) limited.push(result.limited);
  }
  const payloads = batch.changes ? encodeChanges(batch.changes.origin, batch.changes.changes) : [];
  await endCommit(client, events, logs, channel, payloads);
  return { inserted: insertedIds, applied, claimed, extended: await extended, limited };
}

/** What one store's commits remember from one to the next. */
export interface CommitState {
  /**
   * Whether the last commit with claims found a concurrency limit. Claims sent before the
   * count cannot leave saturated tags out: with limits set they would keep taking runs that
   * the count then refuses and puts back, at every commit.
   */
  limitsSeen: boolean;
}

function noKeyShared(requests: readonly ClaimRequest[]): boolean {
  const seen = new Set<string>();
  for (const request of requests) {
    for (const key of request.taskKeys) {
      if (seen.has(key)) return false;
      seen.add(key);
    }
  }
  return true;
}

function sendEarlyClaim(client: ClientBase, request: ClaimRequest): Promise<ClaimedRow[]> {
  if (request.max <= 0 || request.taskKeys.length === 0) return Promise.resolve([]);
  return sendClaim(client, request, request.taskKeys, []);
}

/**
 * The statements of one round trip: sent at once, awaited together. Every promise gets a
 * handler at once, so a statement that fails (and those after it, in the aborted
 * transaction) is not reported as an unhandled rejection before `settled` reads it.
 */
function createRoundTrip() {
  const promises: Promise<unknown>[] = [];
  return {
    add<T>(promise: Promise<T>): Promise<T> {
      promise.catch(() => {});
      promises.push(promise);
      return promise;
    },
    /** Resolves when every statement answered; rejects with the first error, in order. */
    async settled(): Promise<void> {
      const results = await Promise.allSettled(promises);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

/**
 * BEGIN, then a lock on every concurrency limit, as one simple query (no parameters): claims
 * on several servers take their slots one at a time. The lock comes first in the
 * transaction, before the runs it inserts or moves, which every commit with claims does in
 * that order; it locks no row when no limit is set. Returns how many limits it locked.
 */
async function beginLockingLimits(client: ClientBase): Promise<number> {
  const results = (await client.query(`BEGIN; SELECT tag FROM concurrency_limits ORDER BY tag FOR UPDATE`)) as unknown as QueryResult[];
  return results[1].rowCount ?? 0;
}

export const COUNT_CONCURRENCY = `
  SELECT l.tag, l."limit", (
    SELECT count(*) FROM task_runs AS r
    WHERE r.state IN ('PENDING', 'RUNNING') AND (l.tag = ANY (r.tags) OR 'task_key:' || r.task_key = l.tag)
  )::integer AS active
  FROM concurrency_limits AS l ORDER BY l.tag`;

/**
 * With limits set, the leased runs are counted in a statement after the lock and after the
 * batch's own transitions: under READ COMMITTED a statement sees what committed before it
 * began, so a count in the locking statement could miss the runs of the claim it waited
 * for, and a count before the transitions would miss the slots they free.
 */
async function countConcurrency(client: ClientBase): Promise<ConcurrencyAdmission> {
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

interface PreparedInsert {
  inserts: NewRun[];
  fresh: NewRun[];
  firstByKey: Map<string, NewRun>;
}

function idempotencyKey(run: NewRun): string | undefined {
  return run.record.options.idempotencyKey ? `${run.record.taskKey}\u0000${run.record.options.idempotencyKey}` : undefined;
}

/**
 * A run whose task key and idempotency key exist already is not inserted; the existing id
 * is returned instead. Two such runs in one batch resolve to the first, as on SQLite.
 */
function prepareInsert(inserts: NewRun[]): PreparedInsert {
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
  return { inserts, fresh, firstByKey };
}

async function sendInsert(client: ClientBase, insert: PreparedInsert): Promise<Set<string>> {
  if (insert.fresh.length === 0) return new Set();
  const records = insert.fresh.map((run) => run.record);
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
  return new Set(rows.map((row) => row.id));
}

/**
 * The ids of the batch's runs once inserted (`stored`: the ids the INSERT returned). A run
 * whose own id exists already was stored by an earlier try of this batch whose COMMIT was
 * in doubt (the connection broke before its answer): it counts as inserted, so the
 * broker's retry of the batch does not fail on the id forever.
 */
async function settleInserts(client: ClientBase, insert: PreparedInsert, stored: Set<string>, events: RunEvent[], logs: LogRecord[]) {
  const { inserts, fresh, firstByKey } = insert;
  if (inserts.length === 0) return [];
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

const APPLY_TRANSITIONS = { name: "taskwire_apply_transitions", text: APPLY_TRANSITIONS_SQL };

/**
 * Transitions apply in order, each only from its `from` states. One UPDATE covers a group
 * in which no run appears twice; a run's second transition in the batch starts the next
 * group, so it sees the first one's outcome, as it would applied one by one.
 */
function groupTransitions(transitions: Transition[]): Transition[][] {
  const groups: Transition[][] = [];
  let start = 0;
  while (start < transitions.length) {
    const seen = new Set<string>();
    let end = start;
    while (end < transitions.length && !seen.has(transitions[end].runId)) seen.add(transitions[end++].runId);
    groups.push(transitions.slice(start, end));
    start = end;
  }
  return groups;
}

async function sendTransitions(client: ClientBase, group: Transition[]): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>({ ...APPLY_TRANSITIONS, values: transitionColumns(group) });
  return new Set(rows.map((row) => row.id));
}

function settleTransitions(group: Transition[], changed: Set<string>, applied: boolean[], events: RunEvent[]): void {
  for (const transition of group) {
    const ok = changed.has(transition.runId);
    applied.push(ok);
    if (ok) for (const event of transition.events) events.push({ ...event, runId: transition.runId });
  }
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
