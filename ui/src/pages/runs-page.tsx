import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { useState } from "react";
import { type TaskRun, TaskRunService, TaskRunState } from "@taskwire/proto";
import { RelativeTime } from "../components/relative-time.js";
import { StateBadge } from "../components/state-badge.js";
import { formatDuration, ms } from "../components/time-format.js";
import { WorkerId } from "../components/worker-id.js";
import { useLiveRunList } from "../live-run-list.js";
import { Link, navigate, useLocation } from "../router.js";
import { RunFilters } from "./run-filters.js";
import { runPath } from "./run-retry-links.js";

const PAGE_SIZE = 50;
const MAX_LIVE_ROWS = 200;

/** The filter in the page's query string, as the API takes it. */
function filterFromQuery(query: URLSearchParams) {
  const state = query.get("state");
  const from = query.get("from");
  const to = query.get("to");
  return {
    states: state ? [TaskRunState[state as keyof typeof TaskRunState]].filter((s) => s !== undefined) : [],
    taskKeys: query.get("task") ? [query.get("task")!] : [],
    tag: query.get("tag") ?? "",
    workerId: query.get("worker") ?? "",
    idPrefix: query.get("id") ?? "",
    createdAfter: from ? timestampFromMs(new Date(from).getTime()) : undefined,
    createdBefore: to ? timestampFromMs(new Date(to).getTime()) : undefined,
  };
}

export function RunsPage() {
  const { query } = useLocation();
  const filter = filterFromQuery(query);
  const filterKey = query.toString();
  const [pages, setPages] = useState<{ key: string; tokens: string[] }>({ key: filterKey, tokens: [""] });
  const tokens = pages.key === filterKey ? pages.tokens : [""];
  const pageToken = tokens[tokens.length - 1];
  const list = useQuery(TaskRunService.method.listTaskRuns, { ...filter, pageSize: PAGE_SIZE, pageToken });
  const live = useLiveRunList(filter, filterKey, () => void list.refetch());
  const firstPage = pageToken === "";

  const rows: TaskRun[] = (list.data?.taskRuns ?? [])
    .filter((run) => !live.gone.has(run.id))
    .map((run) => live.runs.get(run.id) ?? run);
  if (firstPage) {
    const shown = new Set(rows.map((run) => run.id));
    const oldest = ms(rows[rows.length - 1]?.createdTime) ?? 0;
    const fresh = [...live.runs.values()].filter(
      (run) => !shown.has(run.id) && ((ms(run.createdTime) ?? 0) >= oldest || rows.length < PAGE_SIZE),
    );
    rows.unshift(...fresh);
    rows.sort((a, b) => (ms(b.createdTime) ?? 0) - (ms(a.createdTime) ?? 0) || b.id.localeCompare(a.id));
    // New runs pile up on top of the page read last; past this many the oldest rows give way.
    rows.splice(MAX_LIVE_ROWS);
  }

  return (
    <section>
      <div className="page-head">
        <h1>Task runs</h1>
        <span className={`live ${firstPage ? "on" : ""}`} title="New runs and state changes appear as they happen">
          {firstPage ? "live" : "paused on an older page"}
        </span>
      </div>
      <RunFilters key={filterKey} query={query} />
      {list.error && !list.data ? <p className="error-text">Could not list runs: {list.error.message}</p> : null}
      <div className="table-wrap">
        <table className="runs" id="task-runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Task</th>
              <th>State</th>
              <th className="num">Attempts</th>
              <th>Worker</th>
              <th>Scheduled</th>
              <th>Started</th>
              <th className="num" title="From when the latest attempt started running to when the run ended">
                Duration
              </th>
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((run) => (
              <RunRow key={run.id} run={run} />
            ))}
            {rows.length === 0 && !list.isPending ? (
              <tr>
                <td colSpan={9} className="empty">
                  No runs match these filters yet. New ones will appear here as they are scheduled.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button type="button" disabled={tokens.length === 1} onClick={() => setPages({ key: filterKey, tokens: tokens.slice(0, -1) })}>
          ← Newer
        </button>
        <span className="muted">Page {tokens.length}</span>
        <button
          type="button"
          disabled={!list.data?.nextPageToken}
          onClick={() => setPages({ key: filterKey, tokens: [...tokens, list.data!.nextPageToken] })}
        >
          Older →
        </button>
      </div>
    </section>
  );
}

function RunRow({ run }: { run: TaskRun }) {
  const started = ms(run.startTime);
  const ended = ms(run.endTime);
  const href = runPath(run.id);
  return (
    <tr data-run-id={run.id} onClick={(event) => (event.target as HTMLElement).closest("a") || navigate(href)}>
      <td className="mono">
        {/* The end of the id: its start is a timestamp, the same for runs of one moment. */}
        <Link to={href} title={run.id}>
          …{run.id.slice(-8)}
        </Link>
      </td>
      <td className="task-key">{run.taskKey}</td>
      <td>
        <StateBadge state={run.state} />
      </td>
      <td className="num">{run.attempts}</td>
      <td className="worker">{run.workerId ? <WorkerId id={run.workerId} /> : <span className="muted">—</span>}</td>
      <td>
        <RelativeTime at={ms(run.options?.scheduledTime)} />
      </td>
      <td>
        <RelativeTime at={started} />
      </td>
      <td className="num">{started && ended ? formatDuration(ended - started) : started ? <span className="muted">running</span> : "—"}</td>
      <td>
        {run.options?.tags.map((tag) => (
          <Link className="tag" key={tag} to={`/task-runs?tag=${encodeURIComponent(tag)}`} title={`Runs tagged ${tag}`}>
            {tag}
          </Link>
        ))}
      </td>
    </tr>
  );
}
