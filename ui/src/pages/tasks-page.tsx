import { useQuery } from "@connectrpc/connect-query";
import { useEffect } from "react";
import { TaskRunService, type TaskStats } from "@taskwire/proto";
import { formatDuration, ms } from "../components/time-format.js";
import { DurationPercentilesChart } from "../task-charts/duration-percentiles-chart.js";
import { QueueDepthChart } from "../task-charts/queue-depth-chart.js";
import { RunsPerMinuteChart } from "../task-charts/runs-per-minute-chart.js";
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
  const windowStart = ms(stats.data?.windowStart) ?? 0;
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
          <TaskCard key={task.taskKey} task={task} windowStart={windowStart} />
        ))}
      </div>
    </section>
  );
}

/**
 * One task key: its figures as text (links into the runs list, totals, percentiles), each
 * beside a chart of the same figures, so they read without the charts too.
 */
function TaskCard({ task, windowStart }: { task: TaskStats; windowStart: number }) {
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
      <QueueDepthChart taskKey={task.taskKey} scheduled={task.scheduled} pending={task.pending} running={task.running} />
      <RunsPerMinuteChart taskKey={task.taskKey} windowStart={windowStart} completed={task.completedPerMinute} failed={task.failedPerMinute} />
      <div className="legend">
        <span className="swatch completed" /> {completed} completed
        <span className="swatch failed" /> {failed} failed
        <span className="muted">per minute, last hour</span>
      </div>
      <DurationPercentilesChart
        taskKey={task.taskKey}
        completed={completed}
        p50={task.durationP50Seconds}
        p95={task.durationP95Seconds}
        p99={task.durationP99Seconds}
      />
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
