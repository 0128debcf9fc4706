import type Database from "better-sqlite3";
import type { ListFilter, RunPageQuery, TaskStatsRecord } from "./store.js";
import { assembleTaskStats, type DepthRow, type FinishedRow, percentilesOf } from "./task-stats.js";

/**
 * Durations read per task key for its percentiles: the most recent ones. Beyond 20,000
 * the percentiles of a sample that size move by well under 1% while the read keeps growing.
 */
const MAX_DURATIONS = 20_000;

/**
 * The SQL of one page of `listRuns`, newest first: keyset paging on `seq`, the table's
 * primary key. Every filter reads a range of an index (the migration adding
 * task_runs_state), never the table. A filter on one state, task key, tag or worker reads
 * its index in `seq` order, so a page reads about `limit` entries whether the filter
 * matches ten runs of a million or all of them; several states or task keys, an id prefix
 * and a time range read their ranges and sort them, which costs the size of the range, not
 * of the table. The tag filter reads the tag table's (tag, run_seq) key: no index holds
 * the JSON array of the tags column.
 */
export function runPageQuery(filter: ListFilter): RunPageQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = "task_runs";
  let seq = "seq";
  if (filter.tag) {
    // CROSS JOIN keeps the tag table outer: SQLite walks (tag, run_seq) newest first.
    from = "task_run_tags CROSS JOIN task_runs ON task_runs.seq = task_run_tags.run_seq";
    seq = "task_run_tags.run_seq";
    where.push("task_run_tags.tag = ?");
    params.push(filter.tag);
  }
  if (filter.taskKeys.length > 0) {
    where.push(`task_key IN (${filter.taskKeys.map(() => "?").join(", ")})`);
    params.push(...filter.taskKeys);
  }
  if (filter.states.length > 0) {
    where.push(`state IN (${filter.states.map(() => "?").join(", ")})`);
    params.push(...filter.states);
  }
  if (filter.workerId) {
    where.push("worker_id = ?");
    params.push(filter.workerId);
  }
  if (filter.idPrefix) {
    // A range on the unique index on id: every id that starts with the prefix sorts at or
    // after it and before prefix + "~" ("~" sorts after hex digits and "-").
    where.push("id >= ? AND id < ?");
    params.push(filter.idPrefix, `${filter.idPrefix}~`);
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
  const countSql = `SELECT count(*) AS n FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`;
  const countParams = [...params];
  if (filter.before) {
    where.push(`${seq} < ?`);
    params.push(Number(filter.before));
  }
  const sql = `SELECT task_runs.* FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${seq} DESC LIMIT ?`;
  return { sql, params: [...params, filter.limit + 1], countSql, countParams };
}

/** One page of `listRuns` (see runPageQuery). */
export function selectRunPage<Row extends { seq: number }>(
  db: Database.Database,
  filter: ListFilter,
): { rows: Row[]; next?: string; total?: number } {
  const query = runPageQuery(filter);
  const total = filter.countTotal
    ? (db.prepare<unknown[], { n: number }>(query.countSql).get(...query.countParams)?.n ?? 0)
    : undefined;
  const rows = db.prepare<unknown[], Row>(query.sql).all(...query.params);
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
