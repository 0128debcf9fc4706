import type pg from "pg";
import type { PostgresRunRow } from "./postgres-run-row.js";
import type { ListFilter, RunPageQuery, TaskStatsRecord } from "./store.js";
import { assembleTaskStats, type DepthRow, type DurationPercentiles, type FinishedRow } from "./task-stats.js";

/**
 * The SQL of one page of `listRuns`, newest first: keyset paging on `seq`, the table's
 * primary key. Every filter reads an index (the migration adding task_runs_state): one
 * state, task key, tag or worker reads its (column, seq) index in `seq` order, a page at
 * a time; several states or task keys, an id prefix and a time range read the matching
 * entries and sort them, which costs the size of the range, not of the table.
 */
export function runPageQuery(filter: ListFilter): RunPageQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  // "= $1" for one value (the UI's filters): "= ANY" reads the (column, seq) index out of
  // seq order, and PostgreSQL then sorts every match for a page.
  const oneOf = (column: string, values: string[]) =>
    values.length === 1 ? `${column} = ${param(values[0])}` : `${column} = ANY (${param(values)}::text[])`;
  if (filter.taskKeys.length > 0) where.push(oneOf("task_key", filter.taskKeys));
  if (filter.states.length > 0) where.push(oneOf("state", filter.states));
  let from = "task_runs";
  let seq = "seq";
  if (filter.tag) {
    // The tag table's (tag, run_seq) key yields a tag's runs newest first.
    from = "task_run_tags JOIN task_runs ON task_runs.seq = task_run_tags.run_seq";
    seq = "task_run_tags.run_seq";
    where.push(`task_run_tags.tag = ${param(filter.tag)}`);
  }
  if (filter.workerId) where.push(`worker_id = ${param(filter.workerId)}`);
  // A prefix holds only hex digits and dashes (runFilterFromRequest): nothing to escape.
  if (filter.idPrefix) where.push(`id LIKE ${param(`${filter.idPrefix}%`)}`);
  if (filter.createdAfter !== undefined) where.push(`created_at >= ${param(filter.createdAfter)}::bigint`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}::bigint`);
  // The total counts every page, so it leaves out the page cursor.
  const countSql = `SELECT count(*) AS n FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`;
  const countParams = [...params];
  if (filter.before) where.push(`${seq} < ${param(Number(filter.before))}::bigint`);
  const sql = `SELECT task_runs.* FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY ${seq} DESC LIMIT ${param(filter.limit + 1)}`;
  return { sql, params, countSql, countParams };
}

/** One page of `listRuns` (see runPageQuery). */
export async function selectRunPage(
  pool: pg.Pool,
  filter: ListFilter,
): Promise<{ rows: PostgresRunRow[]; next?: string; total?: number }> {
  const query = runPageQuery(filter);
  let total: number | undefined;
  if (filter.countTotal) {
    const counted = await pool.query<{ n: string }>(query.countSql, query.countParams);
    total = Number(counted.rows[0].n);
  }
  const { rows } = await pool.query<PostgresRunRow>(query.sql, query.params);
  const page = rows.slice(0, filter.limit);
  return { rows: page, next: rows.length > filter.limit ? String(page[page.length - 1].seq) : undefined, total };
}

/** `Store.taskStats` on PostgreSQL: percentiles computed by the database. */
export async function selectTaskStats(pool: pg.Pool, since: number, minutes: number): Promise<TaskStatsRecord[]> {
  const until = since + minutes * 60_000;
  const [depth, finished, durations] = await Promise.all([
    pool.query<DepthRow>(`SELECT task_key AS "taskKey", state, count(*)::int AS n FROM task_runs
      WHERE state IN ('SCHEDULED', 'PENDING', 'RUNNING') GROUP BY task_key, state`),
    pool.query<FinishedRow>(
      `SELECT task_key AS "taskKey", state, ((ended_at - $1) / 60000)::int AS minute, count(*)::int AS n FROM task_runs
       WHERE state IN ('COMPLETED', 'FAILED') AND ended_at >= $1 AND ended_at < $2
       GROUP BY task_key, state, minute`,
      [since, until],
    ),
    pool.query<{ taskKey: string } & DurationPercentiles>(
      `SELECT task_key AS "taskKey",
         percentile_disc(0.5) WITHIN GROUP (ORDER BY ended_at - started_at)::float8 AS p50,
         percentile_disc(0.95) WITHIN GROUP (ORDER BY ended_at - started_at)::float8 AS p95,
         percentile_disc(0.99) WITHIN GROUP (ORDER BY ended_at - started_at)::float8 AS p99
       FROM task_runs
       WHERE state = 'COMPLETED' AND ended_at >= $1 AND ended_at < $2 AND started_at IS NOT NULL
       GROUP BY task_key`,
      [since, until],
    ),
  ]);
  const percentiles = new Map(durations.rows.map(({ taskKey, ...p }) => [taskKey, p]));
  return assembleTaskStats(minutes, depth.rows, finished.rows, percentiles);
}
