import type { ClientBase } from "pg";
import type { ConcurrencyAdmission } from "./concurrency-admission.js";
import { type PostgresRunRow, runFromRow } from "./postgres-run-row.js";
import type { ClaimRequest, RunRecord, TransitionRecord } from "./store.js";

/**
 * One statement takes up to `max` due runs of the request's keys and marks them PENDING.
 * Each key yields up to `max` rows in dispatch order (priority, scheduled time, insertion);
 * the rows are then interleaved by rank, so a worker serving several keys gets them in
 * turn rather than one key's backlog first. SKIP LOCKED: rows another transaction is
 * claiming are passed over instead of waited for.
 */
const CLAIM = {
  name: "taskwire_claim",
  text: `
  WITH keys AS (
    SELECT key, ord FROM unnest($1::text[]) WITH ORDINALITY AS k (key, ord)
  ),
  candidates AS (
    SELECT c.seq, c.worker_id, k.ord,
      row_number() OVER (PARTITION BY k.ord ORDER BY c.priority DESC, c.scheduled_at, c.seq) AS rank
    FROM keys AS k CROSS JOIN LATERAL (
      SELECT seq, worker_id, priority, scheduled_at FROM task_runs
      WHERE task_key = k.key AND state = 'SCHEDULED' AND scheduled_at <= $2
        AND NOT (tags && $3::text[])
      ORDER BY priority DESC, scheduled_at, seq
      LIMIT $4
      FOR UPDATE SKIP LOCKED
    ) AS c
  ),
  picked AS (
    SELECT seq, worker_id, rank, ord FROM candidates ORDER BY rank, ord LIMIT $4
  )
  UPDATE task_runs AS t SET state = 'PENDING', attempts = t.attempts + 1, worker_id = $5,
    -- 12 random bytes, base64url: the lease token, written by the claim itself.
    lease_token = translate(rtrim(encode(substring(uuid_send(gen_random_uuid()) FROM 1 FOR 12), 'base64'), '='), '+/', '-_'),
    lease_server_id = $6, lease_session_id = $7, lease_deadline = $8, timeout_at = NULL, cancel_reason = NULL
  FROM picked AS p
  WHERE t.seq = p.seq
  -- What dispatch needs, not every column: a queued run has no result or end yet.
  RETURNING t.seq, t.id, t.task_key, t.state, t.parameters, t.parameters_type, t.options, t.error,
    t.attempts, t.retries_used, t.redeliveries, t.created_at, t.scheduled_at, t.started_at, t.worker_id,
    t.foreground, t.lease_token, t.lease_server_id, t.lease_session_id, t.lease_deadline,
    p.worker_id AS previous_worker_id, p.rank, p.ord`,
};

/**
 * Of the keys, the first `$4` in their order that have a due run outside the saturated
 * tags. The lateral probe keeps the array's order and stops at the limit, so a claim of 5
 * runs by a worker serving 10,000 keys ranks and locks the runs of 5 keys, not 10,000.
 * Rows locked by another server's claim count as due here and are skipped by the claim.
 */
const DUE_KEYS = {
  name: "taskwire_claim_due_keys",
  text: `
  SELECT k.key FROM unnest($1::text[]) WITH ORDINALITY AS k (key, ord)
  CROSS JOIN LATERAL (
    SELECT 1 FROM task_runs
    WHERE task_key = k.key AND state = 'SCHEDULED' AND scheduled_at <= $2 AND NOT (tags && $3::text[])
    LIMIT 1
  ) AS due
  LIMIT $4`,
};

/** Runs refused by `admit` go back exactly as they were, within the same transaction. */
const UNCLAIM = {
  name: "taskwire_unclaim",
  text: `
  UPDATE task_runs AS t SET state = 'SCHEDULED', attempts = t.attempts - 1, worker_id = v.worker_id,
    lease_token = NULL, lease_server_id = NULL, lease_session_id = NULL, lease_deadline = NULL
  FROM unnest($1::bigint[], $2::text[]) AS v (seq, worker_id)
  WHERE t.seq = v.seq`,
};

/** The columns the claim returns; a queued run has no result, end time, timeout or cancel yet. */
export type ClaimedRow = Omit<PostgresRunRow, "result" | "result_type" | "ended_at" | "timeout_at" | "cancel_reason"> & {
  previous_worker_id: string | null;
  rank: number;
  ord: number;
};
const NOT_READ = { result: null, result_type: null, ended_at: null, timeout_at: null, cancel_reason: null };

/**
 * Claims for one request. `exhausted` holds the keys an earlier request of the same commit
 * found empty: they are not queried again. The PENDING history rows of the claimed runs
 * are pushed onto `events`, for the commit to insert with the others in one statement.
 */
export async function claimRuns(
  client: ClientBase,
  request: ClaimRequest,
  exhausted: Set<string>,
  events: (TransitionRecord & { runId: string })[],
  admission: ConcurrencyAdmission,
): Promise<{ runs: RunRecord[]; limited: boolean }> {
  const excluded = excludedTags(request, admission);
  let limited = excluded.length > 0;
  const candidates = request.taskKeys.filter((key) => !exhausted.has(key) && !excluded.includes(`task_key:${key}`));
  if (candidates.length === 0 || request.max <= 0) return { runs: [], limited };
  // The claim interleaves one run per key before a second of any: with `max` keys that have
  // due runs it is full from those alone, and keys after them are neither read nor marked dry.
  let keys = candidates;
  let unread = false;
  if (candidates.length > request.max) {
    const due = await client.query<{ key: string }>({ ...DUE_KEYS, values: [candidates, request.now, excluded, request.max] });
    keys = due.rows.map((row) => row.key);
    const found = new Set(keys);
    unread = keys.length === request.max;
    const scannedUpTo = unread ? candidates.indexOf(keys[keys.length - 1]) + 1 : candidates.length;
    const dry = candidates.slice(0, scannedUpTo).filter((key) => !found.has(key));
    for (const key of dry) exhausted.add(key);
    // Under a saturated tag a key may still hold runs: only a claim without one says "none due".
    if (excluded.length === 0 && dry.length > 0) request.noneDue?.(dry);
    if (keys.length === 0) return { runs: [], limited };
  }
  const rows = await sendClaim(client, request, keys, excluded);
  const settled = settleClaim(rows, request, keys, unread, exhausted, events, admission);
  await unclaim(client, settled.refused);
  return { runs: settled.runs, limited: limited || settled.limited };
}

function excludedTags(request: ClaimRequest, admission: ConcurrencyAdmission): string[] {
  return [...new Set([...(request.excludeTags ?? []), ...admission.saturated()])];
}

/**
 * Whether a request's claim statement can be sent before anything of its commit has come
 * back: no probe of due keys first (as many keys as runs asked, at most) and no tag to leave
 * out beyond its own. Such claims travel in the commit's first round trip (postgres-commit.ts).
 */
export function claimNeedsNoProbe(request: ClaimRequest): boolean {
  return request.taskKeys.length <= request.max;
}

/** The claim statement of a request whose keys and excluded tags are known. */
export function sendClaim(client: ClientBase, request: ClaimRequest, keys: readonly string[], excluded: readonly string[]): Promise<ClaimedRow[]> {
  return client
    .query<ClaimedRow>({
      ...CLAIM,
      values: [
        keys,
        request.now,
        excluded,
        request.max,
        request.workerId,
        request.serverId ?? null,
        request.sessionId ?? null,
        request.leaseDeadline ?? null,
      ],
    })
    .then((result) => result.rows);
}

/**
 * What a claim statement returned, through the worker's `admit` and the concurrency limits:
 * the runs kept (their PENDING history pushed onto `events`) and the rows refused, which
 * `unclaim` puts back before the commit ends.
 */
export function settleClaim(
  rows: ClaimedRow[],
  request: ClaimRequest,
  keys: readonly string[],
  unread: boolean,
  exhausted: Set<string>,
  events: (TransitionRecord & { runId: string })[],
  admission: ConcurrencyAdmission,
): { runs: RunRecord[]; refused: ClaimedRow[]; limited: boolean } {
  let limited = false;
  rows.sort((a, b) => a.rank - b.rank || a.ord - b.ord);
  // Fewer than asked: every key's due runs were all taken, so the keys are dry for now.
  if (rows.length < request.max) for (const key of keys) exhausted.add(key);
  // Short although keys were left unread (another server holds the rows the probe saw): the
  // caller must not take the request's keys for dry.
  if (rows.length < request.max && unread) limited = true;
  const runs: RunRecord[] = [];
  const refused: ClaimedRow[] = [];
  for (const row of rows) {
    // `admit` sees the run as it was before the claim, as on SQLite.
    const before = runFromRow({
      ...row,
      ...NOT_READ,
      state: "SCHEDULED",
      attempts: row.attempts - 1,
      worker_id: row.previous_worker_id,
      lease_token: null,
    });
    // The worker's budget first: a run it turns away must not keep a concurrency slot.
    if (request.admit && !request.admit(before)) {
      refused.push(row);
      continue;
    }
    if (!admission.admit(before)) {
      limited = true;
      refused.push(row);
      continue;
    }
    const record = runFromRow({ ...row, ...NOT_READ });
    events.push({ runId: record.id, state: "PENDING", at: request.now, attempt: record.attempts, message: "" });
    runs.push(record);
  }
  return { runs, refused, limited };
}

/** Puts refused rows back exactly as they were, within the same transaction. */
export async function unclaim(client: ClientBase, refused: readonly ClaimedRow[]): Promise<void> {
  if (refused.length === 0) return;
  await client.query({
    ...UNCLAIM,
    values: [refused.map((row) => row.seq), refused.map((row) => row.previous_worker_id)],
  });
}
