import pg from "pg";
import type { ClientBase } from "pg";
import type { LogRecord, TransitionRecord } from "./store.js";

export type RunEvent = TransitionRecord & { runId: string };

/**
 * The end of a commit in one round trip: the history rows, the log lines, the NOTIFY of
 * the change feed and COMMIT, as one simple query. node-postgres waits for each statement's
 * answer before it sends the next, so before this the four cost four round trips out of a
 * W2 commit's seven. COMMIT needs the simple protocol (it cannot share an extended-protocol
 * message with parameters), so the rows travel as one JSON literal each, escaped by
 * escapeLiteral; an error in any statement aborts the rest of the string, COMMIT included,
 * and the caller rolls back.
 */
export async function endCommit(
  client: ClientBase,
  events: readonly RunEvent[],
  logs: readonly LogRecord[],
  channel: string,
  payloads: readonly string[],
): Promise<void> {
  const statements: string[] = [];
  if (events.length > 0) {
    const rows = events.map((e) => ({ r: e.runId, s: e.state, t: e.at, a: e.attempt, m: e.message }));
    // WITH ORDINALITY: history rows take their ids in the order the batch made them.
    statements.push(`INSERT INTO task_run_events (run_id, state, at, attempt, message)
      SELECT r, s, t, a, m FROM ROWS FROM (json_to_recordset(${json(rows)})
        AS (r text, s text, t bigint, a integer, m text)) WITH ORDINALITY AS e ORDER BY e.ordinality`);
  }
  if (logs.length > 0) {
    const rows = logs.map((l) => ({ r: l.runId, t: l.at, l: l.level, m: l.message, a: l.attempt }));
    statements.push(`INSERT INTO task_run_logs (run_id, at, level, message, attempt)
      SELECT r, t, l, m, a FROM ROWS FROM (json_to_recordset(${json(rows)})
        AS (r text, t bigint, l text, m text, a integer)) WITH ORDINALITY AS g ORDER BY g.ordinality`);
  }
  if (payloads.length > 0) {
    // Inside the transaction: the other servers hear of it once committed, and only then.
    statements.push(`SELECT pg_notify(${pg.escapeLiteral(channel)}, p) FROM json_array_elements_text(${json(payloads)}) AS p`);
  }
  statements.push("COMMIT");
  await client.query(statements.join(";\n"));
}

function json(value: unknown): string {
  return `${pg.escapeLiteral(JSON.stringify(value, wellFormed))}::json`;
}

/**
 * PostgreSQL's json refuses a lone UTF-16 surrogate (JSON.stringify writes it as \ud800) and
 * text refuses NUL; either would fail this commit and every retry of it. A log line or a
 * message from a client is stored with U+FFFD in their place, as a text parameter stores a
 * lone surrogate.
 */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === "string" ? value.replace(NOT_STORABLE, "\ufffd") : value;
}

/** NUL, and a high surrogate not followed by a low one or a low one not after a high one. */
const NOT_STORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
