import type { LogLine, Payload, TaskRun } from "@taskwire/proto";
import { CliError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { resolveSettings } from "./resolve-settings.js";
import { singleId } from "./single-id.js";
import { formatLogLine } from "./task-run-logs-command.js";
import { taskRunToJson } from "./task-run-json.js";
import { formatColumns, formatDuration, formatTime, taskRunStateName } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

// The tail a person reads to see how a run ended; `task-run logs ID` has them all.
const LAST_LOG_LINES = 10;

/** `taskwire task-run inspect ID`: one run, readable, or as one JSON line with --json. */
export const taskRunInspectCommand = createCommand({
  name: "task-run inspect",
  summary: "Show one task run: state, parameters, result, history and last log lines",
  usage: `Usage: taskwire task-run inspect ID [--json]

Shows a task run: its state (as \`ls\` shows it), task key, worker, times, parameters and
result (JSON decoded), error, the history of its state transitions and its last
${LAST_LOG_LINES} log lines.

Options:
  --json   The whole record as one JSON object on one line (protobuf JSON, JSON payloads
           decoded), for scripts and jq`,
  flags: { json: { type: "boolean" } },
  async run(flags, positionals, usage) {
    const id = singleId("task-run inspect", positionals, usage);
    const { run, lines } = await withTaskRunClient(resolveSettings(), async (client) => {
      const { taskRun } = await client.getTaskRun({ id });
      const logs = flags.json === true ? [] : (await client.listTaskRunLogs({ runId: id, limit: 10_000 })).lines;
      return { run: taskRun, lines: logs };
    });
    if (run === undefined) throw new CliError(`the server sent no task run for ${id}`);
    process.stdout.write(flags.json === true ? `${JSON.stringify(taskRunToJson(run))}\n` : `${formatTaskRun(run, lines)}\n`);
    return 0;
  },
});

function formatTaskRun(run: TaskRun, lines: readonly LogLine[]): string {
  const options = run.options;
  const fields: [string, string][] = [
    ["task key", run.taskKey],
    ["state", taskRunStateName(run.state) + (run.foreground ? " (ran in the caller's process)" : "")],
    ["attempts", `${run.attempts} (retries used ${run.retriesUsed} of ${options?.retries ?? 0}, redeliveries ${run.redeliveries})`],
    ["worker", run.workerId || "-"],
    ["created", formatTime(run.createdTime)],
    ["scheduled", formatTime(options?.scheduledTime)],
    ["started", formatTime(run.startTime)],
    ["ended", formatTime(run.endTime)],
    ["duration", formatDuration(run)],
    ["tags", options?.tags.join(", ") || "-"],
    ["parameters", formatPayload(run.parameters)],
    ["result", formatPayload(run.result)],
  ];
  if (run.error) fields.push(["error", `${run.error.type}: ${run.error.message}`]);
  const out = [`Task run ${run.id}`, formatColumns(fields.map(([name, value]) => [`  ${name}`, value]))];
  if (run.error?.stack) out.push("", "Stack:", ...run.error.stack.split("\n").map((line) => `  ${line}`));
  out.push("", "History:");
  out.push(
    run.history.length === 0
      ? "  -"
      : formatColumns(
          run.history.map((entry) => [`  ${formatTime(entry.time)}`, taskRunStateName(entry.state), `attempt ${entry.attempt}`, entry.message]),
        ),
  );
  const tail = lines.slice(-LAST_LOG_LINES);
  out.push("", lines.length > tail.length ? `Last ${tail.length} of ${lines.length} log lines:` : "Log lines:");
  out.push(...(tail.length === 0 ? ["  -"] : tail.map((line) => `  ${formatLogLine(line)}`)));
  return out.join("\n");
}

function formatPayload(payload: Payload | undefined): string {
  if (payload === undefined || payload.data.length === 0) return "-";
  const isJson = payload.contentType === "" || /^application\/(.+\+)?json\b/.test(payload.contentType);
  if (isJson) {
    try {
      return JSON.stringify(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload.data)));
    } catch {
      // Shown by its size below: bytes that do not parse are not printed to a terminal.
    }
  }
  return `${payload.data.length} bytes of ${payload.contentType || "application/json"}`;
}
