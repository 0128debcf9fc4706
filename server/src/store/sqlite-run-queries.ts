import type Database from "better-sqlite3";
import type { ListFilter, TaskStatsRecord } from "./store.js";
import { assembleTaskStats, type DepthRow, type FinishedRow, percentilesOf } from "./task-stats.js";

/**
 * Durations read per task key for its percentiles: the most recent ones. Beyond 20,000
 * the percentiles of a sample that size move by well under 1% while the read keeps growing.
 */
const MAX_DURATIONS = 20_000;

/** One page of `listRuns`, newest first: keyset paging on `seq`, the table's primary key. */
export function selectRunPage<Row extends { seq: number }>(
  db: Database.Database,
  filter: ListFilter,
): { rows: Row[]; next?: string; total?: number } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.taskKeys.length > 0) {
    where.push(`task_key IN (${filter.taskKeys.map(() => "?").join(", ")})`);
    params.push(...filter.taskKeys);
  }
  if (filter.states.length > 0) {
    where.push(`state IN (${filter.states.map(() => "?").join(", ")})`);
    params.push(...filter.states);
  }
  if (filter.tag) {
    where.push("EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)");
    params.push(filter.tag);
  }
  if (filter.workerId) {
    where.push("worker_id = ?");
    params.push(filter.workerId);
  }
  if (filter.idPrefix) {
    // A whole id is looked up in the unique index on id; a prefix scans.
    where.push(filter.idPrefix.length === 36 ? "id = ?" : "substr(id, 1, ?) = ?");
    if (filter.idPrefix.length !== 36) params.push(filter.idPrefix.length);
    params.push(filter.idPrefix);
  }
  if (filter.createdAfter !== undefined) {
    where.push("created_at >= ?");
    params.push(filter.createdAfter);
  }
  if (filter.createdBefore !== undefined) {
    where.push("created_at < ?");
    params.push(filter.createdBefore);
  }
  // The total counts every page, so it leaves out the page cursor.
  const matching = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const total = filter.countTotal
    ? (db.prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM task_runs ${matching}`).get(...params)?.n ?? 0)
    : undefined;
  if (filter.before) {
    where.push("seq < ?");
    params.push(Number(filter.before));
  }
  const sql = `SELECT * FROM task_runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY seq DESC LIMIT ?`;
  const rows = db.prepare<unknown[], Row>(sql).all(...params, filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  return { rows: page, next: rows.length > filter.limit ? String(page[page.length - 1].seq) : undefined, total };
}

/** `Store.taskStats` on SQLite: each query reads a partial index (ready, active, ended). */
export function selectTaskStats(db: Database.Database, since: number, minutes: number): TaskStatsRecord[] {
  const depth = db
    .prepare(`SELECT task_key AS taskKey, state, count(*) AS n FROM task_runs
      WHERE state IN ('SCHEDULED', 'PENDING', 'RUNNING') GROUP BY task_key, state`)
    .all() as DepthRow[];
  const finished = db
    .prepare(`SELECT task_key AS taskKey, state, CAST((ended_at - ?) / 60000 AS INTEGER) AS minute, count(*) AS n FROM task_runs
      WHERE state IN ('COMPLETED', 'FAILED') AND ended_at >= ? AND ended_at < ?
      GROUP BY task_key, state, minute`)
    .all(since, since, since + minutes * 60_000) as FinishedRow[];
  const durations = new Map<string, ReturnType<typeof percentilesOf>>();
  const keys = new Set(finished.filter((row) => row.state === "COMPLETED").map((row) => row.taskKey));
  const selectDurations = db.prepare<[string, number, number], number>(`SELECT ended_at - started_at FROM task_runs
    WHERE state = 'COMPLETED' AND task_key = ? AND ended_at >= ? AND ended_at < ? AND started_at IS NOT NULL
    ORDER BY ended_at DESC LIMIT ${MAX_DURATIONS}`);
  for (const key of keys) {
    const values = selectDurations.pluck().all(key, since, since + minutes * 60_000).sort((a, b) => a - b);
    if (values.length > 0) durations.set(key, percentilesOf(values));
  }
  return assembleTaskStats(minutes, depth, finished, durations);
}
