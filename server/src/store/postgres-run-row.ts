import type { RunOptions, RunRecord, RunState, StoredError } from "./store.js";

/** A row of `task_runs` as node-postgres returns it (bigint columns parsed as numbers). */
export interface PostgresRunRow {
  seq: number;
  id: string;
  task_key: string;
  state: RunState;
  parameters: Buffer;
  parameters_type: string;
  options: RunOptions;
  result: Buffer | null;
  result_type: string | null;
  error: StoredError | null;
  attempts: number;
  retries_used: number;
  redeliveries: number;
  created_at: number;
  scheduled_at: number;
  started_at: number | null;
  ended_at: number | null;
  worker_id: string | null;
  foreground: boolean;
  lease_token: string | null;
  lease_server_id: string | null;
  lease_session_id: string | null;
  lease_deadline: number | null;
  timeout_at: number | null;
  cancel_reason: string | null;
}

export function runFromRow(row: PostgresRunRow): RunRecord {
  return {
    id: row.id,
    taskKey: row.task_key,
    state: row.state,
    parameters: { contentType: row.parameters_type, data: row.parameters },
    options: row.options,
    result: row.result ? { contentType: row.result_type ?? "", data: row.result } : undefined,
    error: row.error ?? undefined,
    attempts: row.attempts,
    retriesUsed: row.retries_used,
    redeliveries: row.redeliveries,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at ?? undefined,
    endedAt: row.ended_at ?? undefined,
    workerId: row.worker_id ?? undefined,
    foreground: row.foreground,
    ...(row.lease_token === null || row.lease_token === undefined
      ? {}
      : {
          leaseToken: row.lease_token,
          leaseServerId: row.lease_server_id ?? undefined,
          leaseSessionId: row.lease_session_id ?? undefined,
          leaseDeadline: row.lease_deadline ?? undefined,
          timeoutAt: row.timeout_at ?? undefined,
          cancelReason: row.cancel_reason ?? undefined,
        }),
  };
}

/** A payload as a bytea parameter (node-postgres sends a Buffer as binary). */
export function toBuffer(data: Uint8Array | undefined): Buffer | null {
  if (!data) return null;
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
