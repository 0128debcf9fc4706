import { useQuery } from "@connectrpc/connect-query";
import { useEffect } from "react";
import { type ConnectedWorker, WorkerService } from "@taskwire/proto";
import { RelativeTime } from "../components/relative-time.js";
import { ms } from "../components/time-format.js";
import { WorkerId } from "../components/worker-id.js";
import { useLiveRunList } from "../live-run-list.js";
import { useOnVisible } from "../use-on-visible.js";
import { useThrottled } from "../use-throttled.js";

/**
 * Workers are read again when runs change, as the live run list reports them, at most once
 * a second: a worker taking or finishing runs changes its runs in flight, and one that
 * connects or leaves is seen with the next change. No stream reports workers themselves.
 */
const REFRESH_MS = 1_000;

export function WorkersPage() {
  const list = useQuery(WorkerService.method.listWorkers, {});
  const refetch = useThrottled(() => void list.refetch(), REFRESH_MS);
  // Every run's changes (no filter): the stream opening, or reopening, also reads again.
  const live = useLiveRunList({}, "workers", refetch);
  useEffect(() => {
    if (live.runs.size > 0 || live.gone.size > 0) refetch();
  }, [live, refetch]);
  useOnVisible(refetch);
  const workers = list.data?.workers ?? [];
  // The server column says something only when several servers share the database.
  const servers = new Set(workers.map((w) => w.serverId)).size > 1;
  const columns = servers ? 9 : 8;
  return (
    <section>
      <div className="page-head">
        <h1>Workers</h1>
        <span className="muted">
          {workers.length} connected · updated as runs change
        </span>
      </div>
      {list.error ? <p className="error-text">Could not list the workers: {list.error.message}</p> : null}
      <div className="table-wrap">
        <table id="workers">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Task keys</th>
              <th className="num">Limit</th>
              <th>In flight</th>
              <th>SDK</th>
              <th>Host</th>
              {servers ? <th>Server</th> : null}
              <th>Connected</th>
              <th>Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((worker) => (
              <WorkerRow key={worker.sessionId} worker={worker} servers={servers} />
            ))}
            {list.data && workers.length === 0 ? (
              <tr>
                <td colSpan={columns} className="empty">
                  No worker is connected. Start one with <code>npx taskwire task serve file.ts:task</code>
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function WorkerRow({ worker, servers }: { worker: ConnectedWorker; servers: boolean }) {
  const share = worker.limit > 0 ? Math.min(1, worker.runsInFlight / worker.limit) : 0;
  const heartbeat = ms(worker.lastHeartbeatAt);
  return (
    <tr data-worker-id={worker.workerId}>
      <td>
        <WorkerId id={worker.workerId} />
      </td>
      <td className="task-keys">
        {worker.taskKeys.map((key) => (
          <span className="tag" key={key}>
            {key}
          </span>
        ))}
      </td>
      <td className="num limit">{worker.limit}</td>
      <td className="in-flight">
        <div className="meter" title={`${worker.runsInFlight} of ${worker.limit} slots in use`}>
          <div className={share >= 1 ? "fill full" : "fill"} style={{ width: `${share * 100}%` }} />
        </div>
        <span className="muted">
          {worker.runsInFlight} / {worker.limit}
        </span>
      </td>
      <td>
        {worker.language || "—"} <span className="muted">{worker.sdkVersion}</span>
      </td>
      <td className="mono">
        {worker.hostname || "—"}
        {worker.pid ? <span className="muted"> (pid {worker.pid})</span> : null}
      </td>
      {servers ? <td className="mono">{worker.serverId}</td> : null}
      <td>
        <RelativeTime at={ms(worker.connectedAt)} />
      </td>
      <td>{heartbeat === undefined ? <span className="muted">none yet</span> : <RelativeTime at={heartbeat} />}</td>
    </tr>
  );
}
