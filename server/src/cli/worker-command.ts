import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import type { ConnectedWorker } from "@taskwire/proto";
import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { resolveSettings } from "./resolve-settings.js";
import { formatColumns, formatTime } from "./task-run-table.js";
import { withTaskwireClient } from "./with-task-run-client.js";

const lsWorkerCommand = createCommand({
  name: "worker ls",
  summary: "List the workers connected now",
  usage: `Usage: taskwire worker ls [--json]

Lists the worker streams open now, on every live server of the database (oldest first):
the task keys each serves, its limit, the runs it holds, its language and SDK version,
its host and process, and when its last heartbeat extended its leases.

Options:
  --json   One JSON object per worker and line, for scripts and jq`,
  flags: { json: { type: "boolean" } },
  async run(flags, positionals, usage) {
    if (positionals.length > 0) throw new UsageError(`taskwire worker ls: unexpected argument '${positionals[0]}'`, usage);
    const { workers } = await withTaskwireClient(resolveSettings(), (client) => client.workers.listWorkers({}));
    if (flags.json === true) {
      process.stdout.write(workers.map((w) => `${JSON.stringify(workerJson(w))}\n`).join(""));
      return 0;
    }
    if (workers.length === 0) {
      process.stdout.write("No workers connected.\n");
      return 0;
    }
    const now = Date.now();
    const rows = [
      ["WORKER", "TASK KEYS", "LIMIT", "IN FLIGHT", "LANGUAGE", "VERSION", "HOST", "LAST HEARTBEAT"],
      ...workers.map((w) => [
        w.workerId,
        w.taskKeys.join(",") || "-",
        String(w.limit),
        String(w.runsInFlight),
        w.language || "-",
        w.sdkVersion || "-",
        w.hostname ? `${w.hostname}${w.pid ? ` (pid ${w.pid})` : ""}` : "-",
        w.lastHeartbeatAt ? `${formatTime(w.lastHeartbeatAt)} (${secondsAgo(w.lastHeartbeatAt, now)}s ago)` : "none yet",
      ]),
    ];
    process.stdout.write(`${formatColumns(rows)}\n`);
    return 0;
  },
});

function workerJson(w: ConnectedWorker): Record<string, unknown> {
  const iso = (time: Timestamp | undefined) => (time ? timestampDate(time).toISOString() : null);
  return {
    workerId: w.workerId,
    sessionId: w.sessionId,
    taskKeys: w.taskKeys,
    limit: w.limit,
    runsInFlight: w.runsInFlight,
    language: w.language,
    sdkVersion: w.sdkVersion,
    hostname: w.hostname,
    pid: w.pid,
    connectedAt: iso(w.connectedAt),
    lastHeartbeatAt: iso(w.lastHeartbeatAt),
    serverId: w.serverId,
  };
}

function secondsAgo(time: Timestamp, now: number): number {
  return Math.max(0, Math.round((now - timestampDate(time).getTime()) / 1_000));
}

/** `taskwire worker`: the workers connected to the servers of the database. */
export const workerCommand = createCommandGroup({
  name: "worker",
  summary: "See the connected workers",
  description: "List the workers connected to the servers at TASKWIRE_API_URL (any server of the database answers for all).",
  commands: [lsWorkerCommand],
});
