import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type ReactNode, useCallback, useEffect, useState } from "react";
import { type TaskRun, TaskRunService, TaskRunState } from "@taskwire/proto";
import { PayloadView } from "../components/json-view.js";
import { RelativeTime } from "../components/relative-time.js";
import { StateBadge } from "../components/state-badge.js";
import { formatDuration, ms } from "../components/time-format.js";
import { useLiveRunList } from "../live-run-list.js";
import { Link, navigate } from "../router.js";
import { Attempts, TOOK_TITLE } from "./run-attempts.js";
import { LiveLogs } from "./run-logs.js";
import { RetriedAsLink, retriedAsCandidates, retryOf, runPath } from "./run-retry-links.js";

/**
 * The run's start is when its latest attempt started running (the server sets it at each
 * RUNNING), so Duration is that attempt's Took in the Attempts table, and what `taskwire
 * task-run inspect` says.
 */
const STARTED_TITLE = "When the latest attempt started running (RUNNING)";
const DURATION_TITLE = `From when the latest attempt started running to when the run ended: that attempt's Took (${TOOK_TITLE.toLowerCase()})`;

const FINAL = new Set([TaskRunState.COMPLETED, TaskRunState.FAILED, TaskRunState.CANCELLED]);

export function RunPage({ id }: { id: string }) {
  const query = useQuery(TaskRunService.method.getTaskRun, { id });
  // The live list narrowed to this run: each change of it reads the run (and its history) again.
  const live = useLiveRunList({ idPrefix: id }, `run:${id}`, () => void query.refetch());
  const latest = live.runs.get(id);
  const version = latest ? `${latest.state}:${latest.attempts}:${ms(latest.endTime)}` : "";
  const refetch = query.refetch;
  useEffect(() => {
    if (version) void refetch();
  }, [version, refetch]);
  const run = query.data?.taskRun;

  const cancel = useMutation(TaskRunService.method.cancelTaskRun, { onSuccess: () => void query.refetch() });
  const retry = useMutation(TaskRunService.method.retryTaskRun, {
    onSuccess: (response) => {
      if (response.taskRun) navigate(runPath(response.taskRun.id));
    },
  });
  const [retriedAs, setRetriedAs] = useState<string[]>([]);
  const onLogLines = useCallback((lines: Parameters<typeof retriedAsCandidates>[0]) => {
    const ids = retriedAsCandidates(lines);
    setRetriedAs((before) => (ids.join() === before.join() ? before : ids));
  }, []);

  if (query.error && !run) {
    return (
      <section>
        <p>
          <Link to="/task-runs">← Task runs</Link>
        </p>
        <h1>Run not found</h1>
        <p className="error-text">{query.error.message}</p>
      </section>
    );
  }
  if (!run) return <p className="muted">Loading…</p>;
  const final = FINAL.has(run.state);
  const endedInError = ERROR_STATES.has(run.state);
  const started = ms(run.startTime);
  const ended = ms(run.endTime);
  const original = retryOf(run);

  return (
    <section className="run-page">
      <p className="crumbs">
        <Link to="/task-runs">← Task runs</Link>
      </p>
      <div className="page-head">
        <div>
          <h1 className="task-key">{run.taskKey}</h1>
          <p className="mono muted" id="run-id">
            {run.id}
          </p>
        </div>
        <div className="head-actions">
          <span id="state" className="large">
            <StateBadge state={run.state} />
          </span>
          {!final && (
            <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ id: run.id })}>
              {cancel.isPending ? "Cancelling…" : "Cancel run"}
            </button>
          )}
          {final && (
            <button
              type="button"
              className="primary"
              disabled={retry.isPending}
              title="Schedule a new run of this task with the same parameters and options"
              onClick={() => retry.mutate({ id: run.id })}
            >
              {retry.isPending ? "Retrying…" : "Retry"}
            </button>
          )}
        </div>
      </div>
      {cancel.error ? <p className="error-text">Could not cancel: {cancel.error.message}</p> : null}
      {retry.error ? <p className="error-text">Could not retry: {retry.error.message}</p> : null}

      <dl className="facts">
        <Fact label="Created" value={<RelativeTime at={ms(run.createdTime)} />} />
        <Fact label="Scheduled" value={<RelativeTime at={ms(run.options?.scheduledTime)} />} />
        <Fact label="Started" title={STARTED_TITLE} value={<RelativeTime at={started} />} />
        <Fact label="Ended" value={<RelativeTime at={ended} />} />
        <Fact label="Duration" title={DURATION_TITLE} value={started && ended ? formatDuration(ended - started) : "—"} />
        <Fact
          label="Attempts"
          value={`${run.attempts} (${count(run.retriesUsed, "retry", "retries")}, ${count(run.redeliveries, "redelivery", "redeliveries")})`}
        />
        <Fact label="Worker" value={<span className="mono">{run.workerId || "—"}</span>} />
        {run.foreground ? <Fact label="Ran" value="in the caller's process" /> : null}
        {original ? (
          <Fact
            label="Retry of"
            value={
              <Link to={runPath(original)} className="mono retry-of">
                {original}
              </Link>
            }
          />
        ) : null}
        {retriedAs.length > 0 ? (
          <Fact
            label="Retried as"
            value={retriedAs.map((id) => (
              <RetriedAsLink key={id} runId={run.id} retryId={id} />
            ))}
          />
        ) : null}
      </dl>

      <div className="grid-2">
        <div className="card">
          <h2>History</h2>
          <Timeline run={run} />
        </div>
        <div className="card">
          <h2>Options</h2>
          <Options run={run} />
        </div>
      </div>

      <div className="card">
        <h2>Attempts</h2>
        <Attempts run={run} />
      </div>

      <div className="grid-2">
        <div className="card">
          <h2>Parameters</h2>
          <PayloadView payload={run.parameters} testId="parameters" />
        </div>
        <div className="card">
          <h2>Result</h2>
          <PayloadView payload={run.result} testId="result" />
        </div>
      </div>

      {run.error ? (
        // A run that retried keeps its last error; unless it ended FAILED or CANCELLED, that
        // error is an earlier attempt's, not the run's: a completed run is not shown in red.
        <div className={`card ${endedInError ? "error-card" : "earlier-error-card"}`} data-testid="error">
          <h2>{endedInError ? "Error" : "Error of an earlier attempt"}</h2>
          <p>
            <strong>{run.error.type || "Error"}</strong>: {run.error.message}
          </p>
          {run.error.stack ? <pre className="code stack">{run.error.stack}</pre> : null}
        </div>
      ) : null}

      <div className="card">
        <h2>
          Logs {!final && <span className="live on">following</span>}
        </h2>
        <LiveLogs runId={run.id} onLines={onLogLines} />
      </div>
    </section>
  );
}

/** "1 retry", "2 retries". */
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** States in which the run's error is its own end, not an earlier attempt's. */
const ERROR_STATES = new Set([TaskRunState.FAILED, TaskRunState.CANCELLED]);

function Fact({ label, value, title }: { label: string; value: ReactNode; title?: string }) {
  return (
    <div data-fact={label.toLowerCase()} title={title}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function Timeline({ run }: { run: TaskRun }) {
  return (
    <ol className="timeline" id="history">
      {run.history.map((step, i) => (
        <li key={i} className={`step state-${TaskRunState[step.state]?.toLowerCase()}`}>
          <span className="dot" aria-hidden="true" />
          <div>
            <StateBadge state={step.state} /> <RelativeTime at={ms(step.time)} />
            {step.attempt > 0 ? <span className="muted"> · attempt {step.attempt}</span> : null}
            {step.message ? <div className="step-note">{step.message}</div> : null}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Options({ run }: { run: TaskRun }) {
  const o = run.options;
  if (!o) return <p className="muted">none</p>;
  return (
    <dl className="options">
      <dt>Retries</dt>
      <dd>{o.retries}</dd>
      <dt>Retry delays</dt>
      <dd>{o.retryDelaySeconds.length ? o.retryDelaySeconds.map((s) => `${s} s`).join(", ") : "none"}</dd>
      <dt>Timeout</dt>
      <dd>{o.timeoutSeconds ? `${o.timeoutSeconds} s per attempt` : "none"}</dd>
      <dt>Priority</dt>
      <dd>{o.priority}</dd>
      <dt>Idempotency key</dt>
      <dd className="mono">{o.idempotencyKey || "—"}</dd>
      <dt>Max redeliveries</dt>
      <dd>{o.maxRedeliveries || "server default"}</dd>
      <dt>Tags</dt>
      <dd>
        {o.tags.length
          ? o.tags.map((tag) => (
              <span className="tag" key={tag}>
                {tag}
              </span>
            ))
          : "none"}
      </dd>
    </dl>
  );
}
