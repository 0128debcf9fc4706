import { useQuery } from "@connectrpc/connect-query";
import { type LogLine, type TaskRun, TaskRunService } from "@taskwire/proto";
import { Link } from "../router.js";

// RetryTaskRun links the two runs in what it writes (retry-task-run.ts): the new run's
// first history entry reads "retry of <old id>", the old run gets the log line
// "retried as <new id>". The page reads the links from there, with no column of its own.
const RETRY_OF = /^retry of (\S+)$/;
const RETRIED_AS = /^retried as (\S+)$/;

/** The run this one is a retry of, from its first history entry. */
export function retryOf(run: TaskRun): string | undefined {
  return RETRY_OF.exec(run.history[0]?.message ?? "")?.[1];
}

/** Ids named by "retried as" lines: candidates, since a task may log the same words. */
export function retriedAsCandidates(lines: readonly LogLine[]): string[] {
  const ids = lines.map((line) => RETRIED_AS.exec(line.message)?.[1]).filter((id): id is string => id !== undefined);
  return [...new Set(ids)];
}

export function runPath(id: string): string {
  return `/task-runs/task-run/${encodeURIComponent(id)}`;
}

/**
 * A link to a retry of `runId`, shown once that run's first history entry (written by the
 * server only) confirms it: a task that logged "retried as x" links nowhere.
 */
export function RetriedAsLink({ runId, retryId }: { runId: string; retryId: string }) {
  const query = useQuery(TaskRunService.method.getTaskRun, { id: retryId });
  const retry = query.data?.taskRun;
  if (!retry || retryOf(retry) !== runId) return null;
  return (
    <Link to={runPath(retry.id)} className="mono retried-as">
      {retry.id}
    </Link>
  );
}
