import type { ClientBase } from "pg";
import { encodeChanges } from "./change-feed.js";
import { APPLY_TRANSITIONS_SQL, transitionColumns } from "./postgres-transition-update.js";
import type { CommitResult, WriteBatch } from "./store.js";

/**
 * A batch of transitions alone (a worker's results, a cancel, a retry) and no run twice:
 * one statement in autocommit, which PostgreSQL makes atomic and durable by itself, instead
 * of BEGIN, UPDATE and COMMIT. It updates the runs, inserts the history rows of those it
 * changed, and notifies: a W2 round trip's second commit in one round trip instead of three.
 */
export function isTransitionsAlone(batch: WriteBatch): boolean {
  if (batch.transitions.length === 0 || batch.inserts.length > 0 || batch.claims.length > 0) return false;
  if (batch.extensions.length > 0 || batch.logs.length > 0) return false;
  return new Set(batch.transitions.map((t) => t.runId)).size === batch.transitions.length;
}

// pg_notify is in a SELECT, which runs only if read: the outer SELECT reads both subqueries.
const APPLY_ALONE = {
  name: "taskwire_apply_transitions_alone",
  text: `
  WITH applied AS (${APPLY_TRANSITIONS_SQL}),
  recorded AS (
    INSERT INTO task_run_events (run_id, state, at, attempt, message)
    SELECT e.run_id, e.state, e.at, e.attempt, e.message
    FROM unnest($19::text[], $20::text[], $21::bigint[], $22::integer[], $23::text[]) WITH ORDINALITY
      AS e (run_id, state, at, attempt, message, ord)
    WHERE e.run_id IN (SELECT id FROM applied)
    ORDER BY e.ord
  ),
  notified AS (SELECT pg_notify($24, p) FROM unnest($25::text[]) AS p)
  SELECT ARRAY(SELECT id FROM applied) AS ids, (SELECT count(*) FROM notified) AS notified`,
};

export async function commitTransitionsAlone(client: ClientBase, batch: WriteBatch, channel: string): Promise<CommitResult> {
  const events = batch.transitions.flatMap((t) => t.events.map((event) => ({ ...event, runId: t.runId })));
  const payloads = batch.changes ? encodeChanges(batch.changes.origin, batch.changes.changes) : [];
  const { rows } = await client.query<{ ids: string[] }>({
    ...APPLY_ALONE,
    values: [
      ...transitionColumns(batch.transitions),
      events.map((e) => e.runId),
      events.map((e) => e.state),
      events.map((e) => e.at),
      events.map((e) => e.attempt),
      events.map((e) => e.message),
      channel,
      payloads,
    ],
  });
  const changed = new Set(rows[0].ids);
  return {
    inserted: [],
    applied: batch.transitions.map((t) => changed.has(t.runId)),
    claimed: [],
    extended: [],
    limited: [],
  };
}
