/**
 * A failure the CLI reports as one message, without a stack trace, and exits with
 * `exitCode` (1: the command could not do its job).
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * The command line itself is wrong (unknown command or flag, missing argument): the CLI
 * prints the message and the usage of the command to stderr and exits 2, as Unix tools do.
 */
export class UsageError extends CliError {
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message, { exitCode: 2 });
    this.name = "UsageError";
    this.usage = usage;
  }
}
