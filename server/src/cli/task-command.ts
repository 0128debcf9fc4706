import { ConnectError } from "@connectrpc/connect";
import { type AnyTask, serve } from "taskwire";
import { CliError, UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { loadTaskExport, parseTaskExportSpec } from "./load-task-export.js";
import { isPythonEntrypoint, servePythonTasks } from "./serve-python-tasks.js";

const serveCommand = createCommand({
  name: "task serve",
  summary: "Run a task worker for tasks exported by files",
  usage: `Usage: taskwire task serve FILE[:EXPORT] [FILE[:EXPORT]...] [--limit N]

Imports each file (TypeScript or JavaScript), takes the named export (or the default
export when no :EXPORT is given), and serves those tasks: a worker that runs their
scheduled runs until Ctrl-C (SIGINT) or SIGTERM, then finishes the runs in flight.
The server is TASKWIRE_API_URL (see \`taskwire config view\`).

Python files (tasks.py:my_task, as \`prefect task serve\` takes them) are served by the
Python SDK: \`python3 -m taskwire task serve\` (TASKWIRE_PYTHON names another interpreter).

Options:
  --limit N   Runs in flight at once in this worker

Example:
  taskwire task serve ./tasks.ts:greet ./tasks.ts:sendEmail --limit 10
  taskwire task serve tasks.py:my_background_task`,
  flags: { limit: { type: "string" } },
  async run(flags, positionals, usage) {
    if (positionals.length === 0) {
      throw new UsageError("taskwire task serve: missing FILE[:EXPORT]", usage);
    }
    let limit: number | undefined;
    if (flags.limit !== undefined) {
      limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UsageError(`taskwire task serve: --limit must be a positive integer, got '${flags.limit}'`, usage);
      }
    }
    const python = positionals.filter(isPythonEntrypoint);
    if (python.length > 0) {
      if (python.length < positionals.length) {
        throw new UsageError("taskwire task serve: Python and TypeScript tasks are served by separate workers; start one for each", usage);
      }
      return servePythonTasks(python, limit);
    }
    const tasks: AnyTask[] = [];
    // One after the other: files importing each other then load in a predictable order.
    for (const spec of positionals) {
      tasks.push(await loadTaskExport(parseTaskExportSpec(spec)));
    }
    try {
      await serve(...tasks, { limit });
    } catch (error) {
      // The server refused the worker for good (a wrong API key): one line, no stack.
      if (error instanceof ConnectError) throw new CliError(error.rawMessage, { cause: error });
      throw error;
    }
    return 0;
  },
});

/** `taskwire task`: work with tasks defined in code. */
export const taskCommand = createCommandGroup({
  name: "task",
  summary: "Serve tasks from code",
  description: "Work with the tasks defined in your code.",
  commands: [serveCommand],
});
