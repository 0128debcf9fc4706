import { readFileSync } from "node:fs";
import { CliError, UsageError } from "./cli-error.js";
import { createCommandGroup } from "./command-group.js";
import { concurrencyLimitCommand } from "./concurrency-limit-command.js";
import { configCommand } from "./config-command.js";
import { demoCommand } from "./demo-command.js";
import { serverCommand } from "./server-command.js";
import { taskCommand } from "./task-command.js";
import { taskRunCommand } from "./task-run-command.js";
import { workerCommand } from "./worker-command.js";

const taskwireCommand = createCommandGroup({
  name: "",
  summary: "taskwire",
  description: "taskwire: deferred tasks over gRPC. Schedule runs with the SDK; workers run them.",
  commands: [serverCommand, taskCommand, taskRunCommand, workerCommand, concurrencyLimitCommand, configCommand, demoCommand],
  epilog: `Options:
  -h, --help      Show this help
  -V, --version   Show the version

Settings come from flags, then TASKWIRE_* environment variables, then the active
profile in $TASKWIRE_HOME/profiles.toml, then defaults: see \`taskwire config view\`.`,
});

/**
 * Runs the `taskwire` CLI with the arguments after the program name and returns the exit
 * code: 0 done, 1 the command failed, 2 the command line is wrong. Messages for the user
 * go to stderr; a failure that is not a CliError is a bug, so its stack is printed too.
 */
export async function runCli(args: string[]): Promise<number> {
  if (args[0] === "-V" || args[0] === "--version") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  try {
    return await taskwireCommand.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${error.usage}\n`);
    } else if (error instanceof CliError) {
      process.stderr.write(`taskwire: ${error.message}\n`);
    } else {
      process.stderr.write(`taskwire: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    return error instanceof CliError ? error.exitCode : 1;
  }
}

function version(): string {
  const packageJson = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}
