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
  };
}

/** A payload as a bytea parameter (node-postgres sends a Buffer as binary). */
export function toBuffer(data: Uint8Array | undefined): Buffer | null {
  if (!data) return null;
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
