import { toBuffer } from "./postgres-run-row.js";
import type { Transition } from "./store.js";

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

/** The UPDATE of a group of transitions ($1-$18: transitionColumns), returning the ids changed. */
export const APPLY_TRANSITIONS_SQL = `
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
    $15::bigint[], $16::bigint[], $17::integer[], $18::text[])
    AS v (id, from_states, fields, state, result, result_type, error, attempts, retries_used,
      redeliveries, scheduled_at, started_at, ended_at, worker_id, lease_deadline, timeout_at,
      fence_attempt, fence_token)
  WHERE t.id = v.id AND t.state = ANY (string_to_array(v.from_states, ','))
    -- Fencing: a transition about a lease applies only while the run is still under it.
    AND (v.fence_token IS NULL OR (t.attempts = v.fence_attempt AND t.lease_token = v.fence_token))
  RETURNING t.id`;

export function transitionColumns(group: Transition[]): unknown[] {
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
  ];
}
