import type pg from "pg";
import type { ClientBase } from "pg";
import type { LeaseExtension, Store } from "./store.js";

interface SessionRow {
  session_id: string;
  server_id: string;
  worker_id: string;
  task_keys: string[];
  limit: number;
  language: string;
  sdk_version: string;
  hostname: string;
  pid: number;
  connected_at: number;
  last_heartbeat_at: number | null;
  runs_in_flight: number;
}

type WorkerSessionMethods = Pick<Store, "openWorkerSession" | "closeWorkerSession" | "forgetWorkerSessions" | "listWorkerSessions">;

/** The worker streams table on PostgreSQL. */
export function createPostgresWorkerSessions(pool: pg.Pool): WorkerSessionMethods {
  return {
    async openWorkerSession(s) {
      await pool.query(
        `INSERT INTO worker_sessions (session_id, server_id, worker_id, task_keys, "limit", language, sdk_version,
           hostname, pid, connected_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING`,
        [s.sessionId, s.serverId, s.workerId, s.taskKeys, s.limit, s.language, s.sdkVersion, s.hostname, s.pid, s.connectedAt],
      );
    },
    async closeWorkerSession(sessionId) {
      await pool.query("DELETE FROM worker_sessions WHERE session_id = $1", [sessionId]);
    },
    async forgetWorkerSessions(servers, except) {
      if (servers === "all") await pool.query("DELETE FROM worker_sessions WHERE server_id <> $1", [except]);
      else await pool.query("DELETE FROM worker_sessions WHERE server_id = ANY ($1::text[])", [servers]);
    },
    async listWorkerSessions() {
      const { rows } = await pool.query<SessionRow>(
        `SELECT s.*, (SELECT count(*) FROM task_runs
           WHERE lease_session_id = s.session_id AND state IN ('PENDING', 'RUNNING'))::integer AS runs_in_flight
         FROM worker_sessions AS s ORDER BY s.connected_at, s.session_id`,
      );
      return rows.map((row) => ({
        sessionId: row.session_id,
        serverId: row.server_id,
        workerId: row.worker_id,
        taskKeys: row.task_keys,
        limit: row.limit,
        language: row.language,
        sdkVersion: row.sdk_version,
        hostname: row.hostname,
        pid: row.pid,
        connectedAt: row.connected_at,
        lastHeartbeatAt: row.last_heartbeat_at ?? undefined,
        runsInFlight: row.runs_in_flight,
      }));
    },
  };
}

const TOUCH_SESSIONS = {
  name: "taskwire_touch_sessions",
  text: `
  UPDATE worker_sessions AS s SET last_heartbeat_at = v.at
  FROM unnest($1::text[], $2::bigint[]) AS v (session_id, at)
  WHERE s.session_id = v.session_id`,
};

/** The streams' last heartbeat, for the extensions of a commit: one statement. */
export async function touchWorkerSessions(client: ClientBase, extensions: LeaseExtension[]): Promise<void> {
  const touched = extensions.filter((e) => e.at !== undefined);
  if (touched.length === 0) return;
  await client.query({ ...TOUCH_SESSIONS, values: [touched.map((e) => e.sessionId), touched.map((e) => e.at)] });
}
