import { type TaskRun, TaskRunState } from "@taskwire/proto";
import { RelativeTime } from "../components/relative-time.js";
import { StateBadge } from "../components/state-badge.js";
import { formatDuration, ms } from "../components/time-format.js";
import { WorkerId } from "../components/worker-id.js";

interface Attempt {
  number: number;
  /** When the worker reported it running (RUNNING): what "Took" counts from. */
  start?: number;
  end?: number;
  outcome?: TaskRunState;
  note: string;
}

/**
 * Attempts as read from the history: an attempt runs from its RUNNING step to the next
 * step that leaves RUNNING (SCHEDULED again for a retry or a lost worker, or a final
 * state). Its PENDING step (a worker took it) is in the history; an attempt lost before it
 * ran has no start.
 */
function attemptsOf(run: TaskRun): Attempt[] {
  const attempts = new Map<number, Attempt>();
  for (const step of run.history) {
    if (step.attempt === 0) continue;
    let attempt = attempts.get(step.attempt);
    if (!attempt) attempts.set(step.attempt, (attempt = { number: step.attempt, note: "" }));
    const at = ms(step.time);
    if (step.state === TaskRunState.RUNNING) attempt.start ??= at;
    else if (step.state !== TaskRunState.PENDING) {
      attempt.end = at;
      attempt.outcome = step.state;
      attempt.note = step.message;
    }
  }
  return [...attempts.values()].sort((a, b) => a.number - b.number);
}

/** Said where a worker is not known: the API keeps the worker of the current attempt only. */
const UNKNOWN_WORKER = "The server records only the worker of the run's current attempt";

function AttemptWorker({ run, attempt }: { run: TaskRun; attempt: Attempt }) {
  if (run.foreground) return <span className="muted">caller's process</span>;
  // A retried or requeued run has no worker until one takes its next attempt.
  if (attempt.number === run.attempts && run.workerId) return <WorkerId id={run.workerId} />;
  return (
    <span className="muted" title={UNKNOWN_WORKER}>
      unknown
    </span>
  );
}

export const TOOK_TITLE = "From when the worker started running this attempt (RUNNING) to its end";

export function Attempts({ run }: { run: TaskRun }) {
  const attempts = attemptsOf(run);
  if (attempts.length === 0) return <p className="muted">Not started yet.</p>;
  return (
    <div className="table-wrap">
      <table className="attempts">
        <thead>
          <tr>
            <th>#</th>
            <th>Worker</th>
            <th title="When the worker started running this attempt (RUNNING)">Started</th>
            <th>Ended</th>
            <th className="num" title={TOOK_TITLE}>
              Took
            </th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={attempt.number} data-attempt={attempt.number}>
              <td>{attempt.number}</td>
              <td className="worker">
                <AttemptWorker run={run} attempt={attempt} />
              </td>
              <td>{attempt.start === undefined ? <span className="muted">did not run</span> : <RelativeTime at={attempt.start} />}</td>
              <td>
                <RelativeTime at={attempt.end} />
              </td>
              <td className="num took" title={TOOK_TITLE}>
                {attempt.start !== undefined && attempt.end !== undefined ? formatDuration(attempt.end - attempt.start) : "—"}
              </td>
              <td>
                {attempt.outcome === TaskRunState.SCHEDULED ? (
                  <>
                    <span className="badge requeued">requeued</span>
                    {attempt.note ? <span className="muted"> {attempt.note}</span> : null}
                  </>
                ) : attempt.outcome !== undefined ? (
                  <>
                    <StateBadge state={attempt.outcome} />
                    {attempt.note ? <span className="muted"> {attempt.note}</span> : null}
                  </>
                ) : (
                  <span className="muted">in progress</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
