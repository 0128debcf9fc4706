import type Database from "better-sqlite3";
import type { LeaseExtension, Store, WorkerSessionRecord } from "./store.js";

interface SessionRow {
  session_id: string;
  server_id: string;
  worker_id: string;
  task_keys: string;
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

/** The worker streams table on SQLite; `touch` records heartbeats inside the commit. */
export function createSqliteWorkerSessions(db: Database.Database): WorkerSessionMethods & { touch(extension: LeaseExtension): void } {
  const insert = db.prepare(`
    INSERT OR REPLACE INTO worker_sessions (session_id, server_id, worker_id, task_keys, "limit", language,
      sdk_version, hostname, pid, connected_at, last_heartbeat_at)
    VALUES (@sessionId, @serverId, @workerId, @taskKeys, @limit, @language, @sdkVersion, @hostname, @pid, @connectedAt, NULL)`);
  const remove = db.prepare("DELETE FROM worker_sessions WHERE session_id = ?");
  const touch = db.prepare("UPDATE worker_sessions SET last_heartbeat_at = ? WHERE session_id = ?");
  const list = db.prepare<[], SessionRow>(`
    SELECT s.*, (SELECT count(*) FROM task_runs INDEXED BY task_runs_active
      WHERE state IN ('PENDING', 'RUNNING') AND lease_session_id = s.session_id) AS runs_in_flight
    FROM worker_sessions AS s ORDER BY s.connected_at, s.session_id`);
  return {
    async openWorkerSession(session) {
      insert.run({ ...session, taskKeys: JSON.stringify(session.taskKeys) });
    },
    async closeWorkerSession(sessionId) {
      remove.run(sessionId);
    },
    async forgetWorkerSessions(servers, except) {
      if (servers === "all") db.prepare("DELETE FROM worker_sessions WHERE server_id <> ?").run(except);
      else db.prepare("DELETE FROM worker_sessions WHERE server_id IN (SELECT value FROM json_each(?))").run(JSON.stringify(servers));
    },
    async listWorkerSessions() {
      return list.all().map((row) => ({
        sessionId: row.session_id,
        serverId: row.server_id,
        workerId: row.worker_id,
        taskKeys: JSON.parse(row.task_keys) as string[],
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
    touch(extension) {
      if (extension.at !== undefined) touch.run(extension.at, extension.sessionId);
    },
  };
}
