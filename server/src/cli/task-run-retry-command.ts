import { createCommand } from "./command.js";
import { resolveSettings } from "./resolve-settings.js";
import { singleId } from "./single-id.js";
import { withTaskRunClient } from "./with-task-run-client.js";

/** `taskwire task-run retry ID`: a new run with the same parameters, linked to the old one. */
export const taskRunRetryCommand = createCommand({
  name: "task-run retry",
  summary: "Schedule a finished run again, with the same parameters",
  usage: `Usage: taskwire task-run retry ID

Schedules a new run of a COMPLETED, FAILED or CANCELLED run's task, with the same
parameters and options, and links the two: the new run's history says "retry of ID",
and ID's logs say "retried as <new id>". Prints the new run's id.`,
  flags: {},
  async run(_flags, positionals, usage) {
    const id = singleId("task-run retry", positionals, usage);
    const run = await withTaskRunClient(resolveSettings(), async (client) => (await client.retryTaskRun({ id })).taskRun);
    process.stdout.write(`Retried task run ${id} as ${run?.id ?? "?"}.\n`);
    return 0;
  },
});
