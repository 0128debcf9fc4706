import { Code, ConnectError } from "@connectrpc/connect";
import type { Client } from "@connectrpc/connect";
import type { TaskRunService } from "@taskwire/proto";
import { CliError, UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { confirm } from "./confirm.js";
import { listTaskRuns, type TaskRunFilter } from "./list-task-runs.js";
import { resolveSettings } from "./resolve-settings.js";
import { parseSince, parseStates } from "./task-run-filter.js";
import { taskRunStateName } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

// Cancels in flight at once: enough to cancel thousands in seconds, few enough that the
// server's other callers are not queued behind them.
const CONCURRENT_CANCELS = 16;

/** `taskwire task-run cancel`: one run by ID, or every run a filter matches after a yes. */
export const taskRunCancelCommand = createCommand({
  name: "task-run cancel",
  summary: "Cancel a task run, or every run that matches a filter",
  usage: `Usage: taskwire task-run cancel ID
       taskwire task-run cancel [--state STATE] [--task KEY] [--tag TAG] [--worker ID] [--since TIME] [--yes]

Cancels task runs. A scheduled run ends CANCELLED at once; a running one is asked to stop
and ends CANCELLED when its worker confirms or its lease runs out. Cancelling one run that
has already finished fails with FAILED_PRECONDITION.

With filters instead of an ID, it counts the unfinished runs that match, asks before it
cancels them (unless --yes), and says how many it cancelled.

Options:
  --state STATE   Only runs in this state (repeat for several): SCHEDULED, PENDING, RUNNING
  --task KEY      Only runs of this task key (repeat for several)
  --tag TAG       Only runs carrying this tag
  --worker ID     Only runs held by this worker
  --since TIME    Only runs created since: a time ago (30m, 2h, 7d) or an ISO time
  -y, --yes       Do not ask`,
  flags: {
    state: { type: "string", multiple: true },
    task: { type: "string", multiple: true },
    tag: { type: "string" },
    worker: { type: "string" },
    since: { type: "string" },
    yes: { type: "boolean", short: "y" },
  },
  async run(flags, positionals, usage) {
    const command = "task-run cancel";
    const filtered = [flags.state, flags.task, flags.tag, flags.worker, flags.since].some((flag) => flag !== undefined);
    if (positionals.length > 1 || (positionals.length === 1 && filtered)) {
      throw new UsageError(`taskwire ${command}: give one ID or filters, not both`, usage);
    }
    if (positionals.length === 1) return cancelOne(positionals[0]);
    if (!filtered) {
      throw new UsageError(`taskwire ${command}: missing ID or filter (--state, --task, --tag, --worker, --since)`, usage);
    }
    const unfinished = ["SCHEDULED", "PENDING", "RUNNING"];
    const states = parseStates(flags.state ?? unfinished, command, usage);
    const finished = states.map(taskRunStateName).filter((name) => !unfinished.includes(name));
    if (finished.length > 0) {
      throw new UsageError(`taskwire ${command}: ${finished.join(", ")} runs have ended and cannot be cancelled; states: ${unfinished.join(", ")}`, usage);
    }
    const filter: TaskRunFilter = {
      taskKeys: flags.task ?? [],
      states,
      tag: flags.tag ?? "",
      workerId: flags.worker ?? "",
      since: flags.since === undefined ? undefined : parseSince(flags.since, Date.now(), command, usage),
    };
    return withTaskRunClient(resolveSettings(), async (client) => {
      const { runs } = await listTaskRuns(client, filter, Number.POSITIVE_INFINITY);
      if (runs.length === 0) {
        process.stdout.write("No task runs match; nothing to cancel.\n");
        return 0;
      }
      const what = `${runs.length} task run${runs.length === 1 ? "" : "s"} (${describe(filter)})`;
      if (flags.yes !== true && !(await confirm(`Cancel ${what}?`))) {
        process.stdout.write("Nothing cancelled.\n");
        return 0;
      }
      const counts = await cancelAll(client, runs.map((run) => run.id));
      const parts = [`Cancelled ${counts.cancelled} of ${what}`];
      if (counts.stopping > 0) parts.push(`${counts.stopping} running, asked to stop`);
      if (counts.ended > 0) parts.push(`${counts.ended} had ended meanwhile`);
      process.stdout.write(`${parts.join("; ")}.\n`);
      return 0;
    });
  },
});

async function cancelOne(id: string): Promise<number> {
  const run = await withTaskRunClient(resolveSettings(), async (client) => (await client.cancelTaskRun({ id })).taskRun);
  const state = run === undefined ? undefined : taskRunStateName(run.state);
  process.stdout.write(
    state === undefined || state === "CANCELLED"
      ? `Cancelled task run ${id}.\n`
      : `Asked the worker to stop task run ${id}; it is ${state} and ends CANCELLED when the worker confirms.\n`,
  );
  return 0;
}

async function cancelAll(client: Client<typeof TaskRunService>, ids: string[]) {
  const counts = { cancelled: 0, stopping: 0, ended: 0 };
  let next = 0;
  const cancelNext = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        const { taskRun } = await client.cancelTaskRun({ id });
        if (taskRun === undefined || taskRunStateName(taskRun.state) === "CANCELLED") counts.cancelled++;
        else counts.stopping++;
      } catch (error) {
        // Finished (or deleted) between the listing and its cancel: nothing left to cancel.
        if (error instanceof ConnectError && (error.code === Code.FailedPrecondition || error.code === Code.NotFound)) counts.ended++;
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_CANCELS, ids.length) }, cancelNext));
  if (counts.cancelled + counts.stopping + counts.ended !== ids.length) throw new CliError("some cancels did not finish");
  return counts;
}

function describe(filter: TaskRunFilter): string {
  const parts = [`state ${filter.states.map(taskRunStateName).join("|")}`];
  if (filter.taskKeys.length > 0) parts.push(`task ${filter.taskKeys.join("|")}`);
  if (filter.tag) parts.push(`tag ${filter.tag}`);
  if (filter.workerId) parts.push(`worker ${filter.workerId}`);
  if (filter.since !== undefined) parts.push(`created since ${new Date(filter.since).toISOString()}`);
  return parts.join(", ");
}

