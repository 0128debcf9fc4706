import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { resolveSettings } from "./resolve-settings.js";
import { formatColumns } from "./task-run-table.js";
import { withTaskRunClient } from "./with-task-run-client.js";

const createLimitCommand = createCommand({
  name: "concurrency-limit create",
  summary: "Limit how many runs with a tag run at once",
  usage: `Usage: taskwire concurrency-limit create TAG LIMIT

At most LIMIT runs carrying TAG are PENDING or RUNNING at once, across all workers; the
others wait in the queue. The tag task_key:<key> limits every run of a task key. Creating
a limit for a tag that has one replaces it; LIMIT 0 holds the tag's runs back.`,
  flags: {},
  async run(_flags, positionals, usage) {
    const [tag, text] = positionals;
    if (positionals.length !== 2 || !tag) {
      throw new UsageError("taskwire concurrency-limit create: expected TAG and LIMIT", usage);
    }
    const limit = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(limit)) {
      throw new UsageError(
        `taskwire concurrency-limit create: LIMIT must be a whole number >= 1 (or 0 to hold the tag's runs back), got '${text}'`,
        usage,
      );
    }
    const created = await withTaskRunClient(resolveSettings(), (client) => client.setConcurrencyLimit({ tag, limit }));
    const active = created.concurrencyLimit?.active ?? 0;
    process.stdout.write(`Concurrency limit for ${tag}: ${limit} (${active} running now).\n`);
    return 0;
  },
});

const lsLimitCommand = createCommand({
  name: "concurrency-limit ls",
  summary: "List the concurrency limits",
  usage: `Usage: taskwire concurrency-limit ls [--json]

Lists each limited tag with its limit and the runs holding a slot now.

Options:
  --json   One JSON object per limit and line ({"tag", "limit", "active"}), for scripts and jq`,
  flags: { json: { type: "boolean" } },
  async run(flags, positionals, usage) {
    if (positionals.length > 0) throw new UsageError(`taskwire concurrency-limit ls: unexpected argument '${positionals[0]}'`, usage);
    const { concurrencyLimits } = await withTaskRunClient(resolveSettings(), (client) => client.listConcurrencyLimits({}));
    if (flags.json === true) {
      const lines = concurrencyLimits.map(({ tag, limit, active }) => `${JSON.stringify({ tag, limit, active })}\n`);
      process.stdout.write(lines.join(""));
      return 0;
    }
    const rows = [["TAG", "LIMIT", "ACTIVE"], ...concurrencyLimits.map((l) => [l.tag, String(l.limit), String(l.active)])];
    process.stdout.write(concurrencyLimits.length === 0 ? "No concurrency limits.\n" : `${formatColumns(rows)}\n`);
    return 0;
  },
});

const deleteLimitCommand = createCommand({
  name: "concurrency-limit delete",
  summary: "Remove the concurrency limit of a tag",
  usage: "Usage: taskwire concurrency-limit delete TAG\n\nRemoves the limit; the tag's queued runs may start at once.",
  flags: {},
  async run(_flags, positionals, usage) {
    if (positionals.length !== 1 || !positionals[0]) throw new UsageError("taskwire concurrency-limit delete: expected one TAG", usage);
    await withTaskRunClient(resolveSettings(), (client) => client.deleteConcurrencyLimit({ tag: positionals[0] }));
    process.stdout.write(`Removed the concurrency limit for ${positionals[0]}.\n`);
    return 0;
  },
});

/** `taskwire concurrency-limit`: server-enforced limits per tag or task key. */
export const concurrencyLimitCommand = createCommandGroup({
  name: "concurrency-limit",
  summary: "Limit how many runs of a tag or task key run at once",
  description: "Create, list and delete concurrency limits on the server at TASKWIRE_API_URL.",
  commands: [createLimitCommand, lsLimitCommand, deleteLimitCommand],
});
