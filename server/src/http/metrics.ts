import type { Broker } from "../broker/broker.js";
import type { RunState, Store } from "../store/store.js";

const STATES: RunState[] = ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/** /metrics in the Prometheus text format: broker gauges and counters, runs by state. */
export async function renderMetrics(broker: Broker, store: Store): Promise<string> {
  const stats = broker.stats();
  const byState = await store.countByState();
  const lines = [
    "# HELP taskwire_workers_connected Worker streams open now.",
    "# TYPE taskwire_workers_connected gauge",
    `taskwire_workers_connected ${stats.workersConnected}`,
    "# HELP taskwire_runs_leased Runs held by workers under a lease now.",
    "# TYPE taskwire_runs_leased gauge",
    `taskwire_runs_leased ${stats.runsLeased}`,
    "# HELP taskwire_worker_unsent_bytes Bytes queued on worker streams and not sent yet (a worker that does not read keeps them).",
    "# TYPE taskwire_worker_unsent_bytes gauge",
    `taskwire_worker_unsent_bytes ${stats.unsentBytes}`,
    "# HELP taskwire_task_runs Task runs stored, by state.",
    "# TYPE taskwire_task_runs gauge",
    ...STATES.map((state) => `taskwire_task_runs{state="${state}"} ${byState[state] ?? 0}`),
    "# HELP taskwire_commits_total Group commits to the store.",
    "# TYPE taskwire_commits_total counter",
    `taskwire_commits_total ${stats.commitsTotal}`,
    "# HELP taskwire_runs_scheduled_total Runs scheduled since the server started.",
    "# TYPE taskwire_runs_scheduled_total counter",
    `taskwire_runs_scheduled_total ${stats.runsScheduledTotal}`,
    "# HELP taskwire_claims_total Assignments of runs to workers since the server started.",
    "# TYPE taskwire_claims_total counter",
    `taskwire_claims_total ${stats.claimsTotal}`,
  ];
  return `${lines.join("\n")}\n`;
}
