import type { TaskRun } from "@taskwire/proto";
import { TaskRunState } from "@taskwire/proto";
import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { resolveSettings } from "./resolve-settings.js";
import { taskRunToJson } from "./task-run-json.js";
import { formatTaskRunTable, taskRunStateName } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

// The server's page limit: longer listings take several pages.
const maxPageSize = 1000;

const stateNames = Object.values(TaskRunState)
  .filter((state): state is TaskRunState => typeof state === "number" && state !== TaskRunState.UNSPECIFIED)
  .map((state) => taskRunStateName(state));

const lsCommand = createCommand({
  name: "task-run ls",
  summary: "List task runs, newest first",
  usage: `Usage: taskwire task-run ls [--task KEY] [--state STATE] [--limit N]

Lists task runs on the server at TASKWIRE_API_URL, newest first.

Options:
  --task KEY      Only runs of this task key (repeat for several)
  --state STATE   Only runs in this state (repeat for several): ${stateNames.join(", ")}
  --limit N       At most N runs (default 50)`,
  flags: {
    task: { type: "string", multiple: true },
    state: { type: "string", multiple: true },
    limit: { type: "string" },
  },
  async run(flags, positionals, usage) {
    if (positionals.length > 0) {
      throw new UsageError(`taskwire task-run ls: unexpected argument '${positionals[0]}'`, usage);
    }
    const states = (flags.state ?? []).map((name) => {
      const state = TaskRunState[name.toUpperCase().replace(/^TASK_RUN_STATE_/, "") as keyof typeof TaskRunState];
      if (typeof state !== "number" || state === TaskRunState.UNSPECIFIED) {
        throw new UsageError(`taskwire task-run ls: unknown state '${name}'; states are ${stateNames.join(", ")}`, usage);
      }
      return state;
    });
    const limit = flags.limit === undefined ? 50 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw new UsageError(`taskwire task-run ls: --limit must be a positive integer, got '${flags.limit}'`, usage);
    }

    const runs = await withTaskRunClient(resolveSettings(), async (client) => {
      const found: TaskRun[] = [];
      let pageToken = "";
      do {
        const page = await client.listTaskRuns({
          taskKeys: flags.task ?? [],
          states,
          pageSize: Math.min(limit - found.length, maxPageSize),
          pageToken,
        });
        found.push(...page.taskRuns);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && found.length < limit);
      return found.slice(0, limit);
    });
    process.stdout.write(runs.length === 0 ? "No task runs found.\n" : `${formatTaskRunTable(runs)}\n`);
    return 0;
  },
});

const inspectCommand = createCommand({
  name: "task-run inspect",
  summary: "Show one task run with its parameters, result and history",
  usage: `Usage: taskwire task-run inspect ID

Prints a task run as JSON: its state, options, parameters and result (JSON payloads
decoded), error, and the history of its state transitions.`,
  flags: {},
  async run(_flags, positionals, usage) {
    const id = singleId("task-run inspect", positionals, usage);
    const run = await withTaskRunClient(resolveSettings(), async (client) => {
      const response = await client.getTaskRun({ id });
      return response.taskRun;
    });
    process.stdout.write(`${JSON.stringify(run === undefined ? null : taskRunToJson(run), null, 2)}\n`);
    return 0;
  },
});

const cancelCommand = createCommand({
  name: "task-run cancel",
  summary: "Cancel a task run",
  usage: `Usage: taskwire task-run cancel ID

Cancels a task run. A scheduled run ends CANCELLED at once; a running one is asked to stop
and ends CANCELLED when its worker confirms or its lease runs out. Cancelling a run that
has already finished fails with FAILED_PRECONDITION.`,
  flags: {},
  async run(_flags, positionals, usage) {
    const id = singleId("task-run cancel", positionals, usage);
    const run = await withTaskRunClient(resolveSettings(), async (client) => {
      const response = await client.cancelTaskRun({ id });
      return response.taskRun;
    });
    const state = run === undefined ? undefined : taskRunStateName(run.state);
    process.stdout.write(
      state === undefined || state === "CANCELLED"
        ? `Cancelled task run ${id}.\n`
        : `Asked the worker to stop task run ${id}; it is ${state} and ends CANCELLED when the worker confirms.\n`,
    );
    return 0;
  },
});

/** `taskwire task-run`: list, inspect and cancel task runs on the server. */
export const taskRunCommand = createCommandGroup({
  name: "task-run",
  summary: "List, inspect and cancel task runs",
  description: "List, inspect and cancel the task runs on the server at TASKWIRE_API_URL.",
  commands: [lsCommand, inspectCommand, cancelCommand],
});

function singleId(command: string, positionals: string[], usage: string): string {
  if (positionals.length !== 1 || positionals[0] === "") {
    const problem = positionals.length === 0 ? "missing ID" : `expected one ID, got ${positionals.length}`;
    throw new UsageError(`taskwire ${command}: ${problem}`, usage);
  }
  return positionals[0];
}
