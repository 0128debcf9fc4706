import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./cli-error.js";

/** One command of the `taskwire` CLI, or a group of them (`taskwire config`). */
export interface Command {
  /** The words that invoke it after `taskwire`, e.g. "config set"; "" for the CLI itself. */
  readonly name: string;
  /** One line for the listing of its group's usage. */
  readonly summary: string;
  /** Printed by `--help`, and to stderr after a usage error. */
  readonly usage: string;
  /**
   * Runs the command with the arguments that follow its name.
   * @returns the process exit code.
   * @throws CliError (exit 1) or UsageError (exit 2) with a message for the user.
   */
  run(args: string[]): Promise<number>;
}

type FlagsConfig = NonNullable<ParseArgsConfig["options"]>;

/** The flag values `parseArgs` returns for a flags config. */
export type FlagValues<F extends FlagsConfig> = ReturnType<
  typeof parseArgs<{ options: F; allowPositionals: true; strict: true }>
>["values"];

/**
 * A command whose flags are parsed by `node:util` `parseArgs`. Every command gets
 * `-h/--help`; an unknown flag or a flag without its value is a UsageError (exit 2).
 */
export function createCommand<F extends FlagsConfig>(options: {
  name: string;
  summary: string;
  usage: string;
  flags: F;
  run(flags: FlagValues<F>, positionals: string[], usage: string): Promise<number>;
}): Command {
  const { name, summary, usage } = options;
  const flags = { ...options.flags, help: { type: "boolean", short: "h" } } satisfies FlagsConfig;
  return {
    name,
    summary,
    usage,
    async run(args) {
      let parsed: { values: Record<string, unknown>; positionals: string[] };
      try {
        parsed = restoreNegativeNumbers(
          parseArgs({ args: args.map(hideNegativeNumber), options: flags, allowPositionals: true, strict: true }),
        );
      } catch (error) {
        // parseArgs says "Unknown option '--x'. To specify a positional argument…": the
        // advice about `--` does not apply to these commands, so keep the first sentence.
        const message = (error as Error).message.split(". ")[0] ?? String(error);
        throw new UsageError(`taskwire ${name}: ${message}`, usage);
      }
      if (parsed.values.help === true) {
        process.stdout.write(`${usage}\n`);
        return 0;
      }
      return options.run(parsed.values as FlagValues<F>, parsed.positionals, usage);
    },
  };
}

// parseArgs reads "-1" as the short option "1"; a command's numbers may be negative (to be
// refused with a message about the number, not "Unknown option '-1'"), so they go through
// parseArgs in disguise and come back as they were typed.
const negativeNumberMark = "\u0000negative:";

function hideNegativeNumber(arg: string): string {
  return /^-\d+(\.\d+)?$/.test(arg) ? `${negativeNumberMark}${arg}` : arg;
}

function showNegativeNumber(value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(negativeNumberMark)) return value.slice(negativeNumberMark.length);
  return Array.isArray(value) ? value.map(showNegativeNumber) : value;
}

function restoreNegativeNumbers(parsed: { values: Record<string, unknown>; positionals: string[] }): {
  values: Record<string, unknown>;
  positionals: string[];
} {
  return {
    values: Object.fromEntries(Object.entries(parsed.values).map(([key, value]) => [key, showNegativeNumber(value)])),
    positionals: parsed.positionals.map((arg) => showNegativeNumber(arg) as string),
  };
}
