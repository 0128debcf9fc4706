import { UsageError } from "./cli-error.js";
import type { Command } from "./command.js";

/**
 * A command made of subcommands (`taskwire config set|view|unset`): the first argument
 * picks the subcommand, which gets the rest.
 */
export function createCommandGroup(options: {
  name: string;
  summary: string;
  description: string;
  commands: readonly Command[];
  /** Lines appended to the usage, such as examples. */
  epilog?: string;
}): Command {
  const program = options.name === "" ? "taskwire" : `taskwire ${options.name}`;
  const width = Math.max(...options.commands.map((command) => lastWord(command).length)) + 2;
  const usage = [
    `Usage: ${program} <command> [options]`,
    "",
    options.description,
    "",
    "Commands:",
    ...options.commands.map((command) => `  ${lastWord(command).padEnd(width)}${command.summary}`),
    "",
    `Run \`${program} <command> --help\` for the options of a command.`,
    ...(options.epilog === undefined ? [] : ["", options.epilog]),
  ].join("\n");

  return {
    name: options.name,
    summary: options.summary,
    usage,
    async run(args) {
      const [first, ...rest] = args;
      if (first === "-h" || first === "--help") {
        process.stdout.write(`${usage}\n`);
        return 0;
      }
      if (first === undefined) {
        throw new UsageError(`${program}: missing command`, usage);
      }
      const command = options.commands.find((candidate) => lastWord(candidate) === first);
      if (command === undefined) {
        const what = first.startsWith("-") ? "unknown option" : "unknown command";
        throw new UsageError(`${program}: ${what} '${first}'`, usage);
      }
      return command.run(rest);
    },
  };
}

function lastWord(command: Command): string {
  return command.name.split(" ").at(-1) ?? command.name;
}
