import { useQuery } from "@connectrpc/connect-query";
import { useEffect } from "react";
import { TaskRunService, type TaskStats } from "@taskwire/proto";
import { MinuteBars } from "../components/minute-bars.js";
import { formatDuration } from "../components/time-format.js";
import { useLiveRunList } from "../live-run-list.js";
import { useThrottled } from "../use-throttled.js";
import { Link } from "../router.js";

/**
 * Stats are read again when runs change, as the live run list reports them, at most once
 * a second: a server finishing hundreds of runs a second costs one GetTaskStats a second.
 */
const REFRESH_MS = 1_000;

export function TasksPage() {
  const stats = useQuery(TaskRunService.method.getTaskStats, { windowMinutes: 60 });
  const refetch = useThrottled(() => void stats.refetch(), REFRESH_MS);
  // Every run's changes (no filter): the stream opening, or reopening, also reads again.
  const live = useLiveRunList({}, "tasks", refetch);
  useEffect(() => {
    if (live.runs.size > 0 || live.gone.size > 0) refetch();
  }, [live, refetch]);
  const tasks = stats.data?.tasks ?? [];
  return (
    <section>
      <div className="page-head">
        <h1>Tasks</h1>
        <span className="muted">last {stats.data?.windowMinutes ?? 60} minutes · updated as runs change</span>
      </div>
      {stats.error ? <p className="error-text">Could not read task stats: {stats.error.message}</p> : null}
      {tasks.length === 0 && !stats.isPending ? <p className="empty card">No task has runs queued, in flight or finished in the last hour.</p> : null}
      <div className="task-cards">
        {tasks.map((task) => (
          <TaskCard key={task.taskKey} task={task} />
        ))}
      </div>
    </section>
  );
}

function TaskCard({ task }: { task: TaskStats }) {
  const completed = task.completedPerMinute.reduce((a, b) => a + b, 0);
  const failed = task.failedPerMinute.reduce((a, b) => a + b, 0);
  // The server sends 0 both for no completed run and for runs that took under a
  // millisecond: only the completed count tells them apart.
  const seconds = (s: number) => (completed > 0 ? formatDuration(s * 1000) : "—");
  return (
    <article className="card task-card" data-task-key={task.taskKey}>
      <header>
        <h2 className="task-key">
          <Link to={`/task-runs?task=${encodeURIComponent(task.taskKey)}`}>{task.taskKey}</Link>
        </h2>
      </header>
      <div className="depth">
        <Link to={`/task-runs?task=${encodeURIComponent(task.taskKey)}&state=SCHEDULED`}>
          <strong>{task.scheduled}</strong> scheduled
        </Link>
        <span>
          <strong>{task.pending}</strong> pending
        </span>
        <Link to={`/task-runs?task=${encodeURIComponent(task.taskKey)}&state=RUNNING`}>
          <strong>{task.running}</strong> running
        </Link>
      </div>
      <MinuteBars completed={task.completedPerMinute} failed={task.failedPerMinute} label={`${task.taskKey}: runs finished per minute`} />
      <div className="legend">
        <span className="swatch completed" /> {completed} completed
        <span className="swatch failed" /> {failed} failed
        <span className="muted">per minute, last hour</span>
      </div>
      <dl className="percentiles">
        <div>
          <dt>p50</dt>
          <dd>{seconds(task.durationP50Seconds)}</dd>
        </div>
        <div>
          <dt>p95</dt>
          <dd>{seconds(task.durationP95Seconds)}</dd>
        </div>
        <div>
          <dt>p99</dt>
          <dd>{seconds(task.durationP99Seconds)}</dd>
        </div>
      </dl>
    </article>
  );
}
