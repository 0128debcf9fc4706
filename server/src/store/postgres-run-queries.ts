import type pg from "pg";
import type { PostgresRunRow } from "./postgres-run-row.js";
import type { ListFilter, TaskStatsRecord } from "./store.js";
import { assembleTaskStats, type DepthRow, type DurationPercentiles, type FinishedRow } from "./task-stats.js";

/** One page of `listRuns`, newest first: keyset paging on `seq`, the table's primary key. */
export async function selectRunPage(
  pool: pg.Pool,
  filter: ListFilter,
): Promise<{ rows: PostgresRunRow[]; next?: string; total?: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.taskKeys.length > 0) where.push(`task_key = ANY (${param(filter.taskKeys)}::text[])`);
  if (filter.states.length > 0) where.push(`state = ANY (${param(filter.states)}::text[])`);
  if (filter.tag) where.push(`${param(filter.tag)}::text = ANY (tags)`);
  if (filter.workerId) where.push(`worker_id = ${param(filter.workerId)}`);
  if (filter.idPrefix) {
    // A whole id is looked up in the unique index on id; a prefix scans.
    where.push(filter.idPrefix.length === 36 ? `id = ${param(filter.idPrefix)}` : `left(id, ${param(filter.idPrefix.length)}) = ${param(filter.idPrefix)}`);
  }
  if (filter.createdAfter !== undefined) where.push(`created_at >= ${param(filter.createdAfter)}::bigint`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}::bigint`);
  // The total counts every page, so it leaves out the page cursor.
  let total: number | undefined;
  if (filter.countTotal) {
    const matching = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const counted = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM task_runs ${matching}`, params);
    total = Number(counted.rows[0].n);
  }
  if (filter.before) where.push(`seq < ${param(Number(filter.before))}::bigint`);
  const sql = `SELECT * FROM task_runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
    ORDER BY seq DESC LIMIT ${param(filter.limit + 1)}`;
  const { rows } = await pool.query<PostgresRunRow>(sql, params);
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
