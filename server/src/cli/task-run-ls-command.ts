import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { listTaskRuns } from "./list-task-runs.js";
import { resolveSettings } from "./resolve-settings.js";
import { parseLimit, parseSince, parseStates, stateNames } from "./task-run-filter.js";
import { taskRunToJson } from "./task-run-json.js";
import { formatTaskRunTable } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

/** `taskwire task-run ls`: the newest runs, filtered, as a table or as JSON lines. */
export const taskRunLsCommand = createCommand({
  name: "task-run ls",
  summary: "List task runs, newest first",
  usage: `Usage: taskwire task-run ls [--task KEY] [--state STATE] [--tag TAG] [--worker ID]
                          [--since TIME] [--limit N | --all] [--json]

Lists task runs on the server at TASKWIRE_API_URL, newest first, and says how many more
match than it shows.

Options:
  --task KEY      Only runs of this task key (repeat for several)
  --state STATE   Only runs in this state (repeat for several): ${stateNames.join(", ")}
  --tag TAG       Only runs carrying this tag
  --worker ID     Only runs held, or last held, by this worker
  --since TIME    Only runs created since: a time ago (30m, 2h, 7d) or an ISO time
  --limit N       At most N runs (default 50)
  --all           Every matching run
  --json          One JSON object per run and line (protobuf JSON), for scripts and jq`,
  flags: {
    task: { type: "string", multiple: true },
    state: { type: "string", multiple: true },
    tag: { type: "string" },
    worker: { type: "string" },
    since: { type: "string" },
    limit: { type: "string" },
    all: { type: "boolean" },
    json: { type: "boolean" },
  },
  async run(flags, positionals, usage) {
    const command = "task-run ls";
    if (positionals.length > 0) {
      throw new UsageError(`taskwire ${command}: unexpected argument '${positionals[0]}'`, usage);
    }
    if (flags.all === true && flags.limit !== undefined) {
      throw new UsageError(`taskwire ${command}: --all and --limit contradict each other; give one`, usage);
    }
    const limit = flags.all === true ? Number.POSITIVE_INFINITY : flags.limit === undefined ? 50 : parseLimit(flags.limit, command, usage);
    const filter = {
      taskKeys: flags.task ?? [],
      states: parseStates(flags.state ?? [], command, usage),
      tag: flags.tag ?? "",
      workerId: flags.worker ?? "",
      since: flags.since === undefined ? undefined : parseSince(flags.since, Date.now(), command, usage),
    };
    const { runs, total } = await withTaskRunClient(resolveSettings(), (client) => listTaskRuns(client, filter, limit));
    const more = total - runs.length;
    const note = more > 0 ? `${runs.length} of ${total} shown; ${more} more (--limit N or --all).\n` : "";
    if (flags.json === true) {
      process.stdout.write(runs.map((run) => `${JSON.stringify(taskRunToJson(run))}\n`).join(""));
      // Scripts read stdout: the note goes beside it.
      process.stderr.write(note);
      return 0;
    }
    process.stdout.write(runs.length === 0 ? "No task runs found.\n" : `${formatTaskRunTable(runs)}\n${note}`);
    return 0;
  },
});
