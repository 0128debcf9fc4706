import { type TaskRun, TaskRunState } from "@taskwire/proto";
import { RelativeTime } from "../components/relative-time.js";
import { StateBadge } from "../components/state-badge.js";
import { formatDuration, ms } from "../components/time-format.js";

interface Attempt {
  number: number;
  start?: number;
  end?: number;
  outcome?: TaskRunState;
  note: string;
}

/**
 * Attempts as read from the history: an attempt starts with its PENDING (or RUNNING) step
 * and ends with the next step that leaves RUNNING (SCHEDULED again for a retry or a lost
 * worker, or a final state).
 */
function attemptsOf(run: TaskRun): Attempt[] {
  const attempts = new Map<number, Attempt>();
  for (const step of run.history) {
    if (step.attempt === 0) continue;
    let attempt = attempts.get(step.attempt);
    if (!attempt) attempts.set(step.attempt, (attempt = { number: step.attempt, note: "" }));
    const at = ms(step.time);
    if (step.state === TaskRunState.PENDING || step.state === TaskRunState.RUNNING) attempt.start ??= at;
    else {
      attempt.end = at;
      attempt.outcome = step.state;
      attempt.note = step.message;
    }
  }
  return [...attempts.values()].sort((a, b) => a.number - b.number);
}

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
            <th>Started</th>
            <th>Ended</th>
            <th className="num">Took</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={attempt.number}>
              <td>{attempt.number}</td>
              <td className="mono">{attempt.number === run.attempts ? run.workerId || "—" : <span className="muted">earlier worker</span>}</td>
              <td>
                <RelativeTime at={attempt.start} />
              </td>
              <td>
                <RelativeTime at={attempt.end} />
              </td>
              <td className="num">{attempt.start && attempt.end ? formatDuration(attempt.end - attempt.start) : "—"}</td>
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
