import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type LogLine, LogLineSchema } from "@taskwire/proto";
import { toJson } from "@bufbuild/protobuf";
import { createCommand } from "./command.js";
import { resolveSettings } from "./resolve-settings.js";
import { singleId } from "./single-id.js";
import { taskRunStateName } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

/** `taskwire task-run logs ID [--follow]`: a run's log lines, and with --follow the new ones. */
export const taskRunLogsCommand = createCommand({
  name: "task-run logs",
  summary: "Print a task run's log lines; --follow streams new ones until it ends",
  usage: `Usage: taskwire task-run logs ID [--follow] [--json]

Prints the log lines of a task run, oldest first: time (UTC), level, attempt, message.

Options:
  -f, --follow   Keep printing new lines as the worker sends them, until the run ends
                 (the server streams them; nothing polls), then say how it ended
  --json         One JSON object per line (protobuf JSON of LogLine), for scripts and jq`,
  flags: {
    follow: { type: "boolean", short: "f" },
    json: { type: "boolean" },
  },
  async run(flags, positionals, usage) {
    const runId = singleId("task-run logs", positionals, usage);
    const print = (lines: readonly LogLine[]) => {
      const text = lines.map((line) => (flags.json === true ? JSON.stringify(toJson(LogLineSchema, line)) : formatLogLine(line)));
      if (text.length > 0) process.stdout.write(`${text.join("\n")}\n`);
    };
    await withTaskRunClient(resolveSettings(), async (client) => {
      if (flags.follow !== true) {
        // 10,000 per request, the server's largest page; a page ends at the last line's time.
        for (let after: LogLine["time"]; ; ) {
          const { lines } = await client.listTaskRunLogs({ runId, after, limit: 10_000 });
          print(lines);
          if (lines.length < 10_000) return;
          after = lines[lines.length - 1].time;
        }
      }
      for await (const message of client.watchTaskRunLogs({ runId })) {
        print(message.lines);
        if (message.finalTaskRun) {
          process.stderr.write(`task run ${runId} ended ${taskRunStateName(message.finalTaskRun.state)}\n`);
        }
      }
    });
    return 0;
  },
});

/** "2026-11-29T12:00:01.250Z  info   #1  Hello, Arthur!" */
export function formatLogLine(line: LogLine): string {
  const time = line.time === undefined ? "-".padEnd(24) : timestampDate(line.time).toISOString();
  return `${time}  ${(line.level || "info").padEnd(5)}  #${line.attempt}  ${line.message}`;
}
