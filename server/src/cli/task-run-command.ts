import { createCommandGroup } from "./command-group.js";
import { taskRunCancelCommand } from "./task-run-cancel-command.js";
import { taskRunInspectCommand } from "./task-run-inspect-command.js";
import { taskRunLogsCommand } from "./task-run-logs-command.js";
import { taskRunLsCommand } from "./task-run-ls-command.js";
import { taskRunRetryCommand } from "./task-run-retry-command.js";

/** `taskwire task-run`: list, inspect, follow, retry and cancel task runs on the server. */
export const taskRunCommand = createCommandGroup({
  name: "task-run",
  summary: "List, inspect, follow, retry and cancel task runs",
  description: "List, inspect, follow, retry and cancel the task runs on the server at TASKWIRE_API_URL.",
  commands: [taskRunLsCommand, taskRunInspectCommand, taskRunLogsCommand, taskRunRetryCommand, taskRunCancelCommand],
});
