import { UsageError } from "./cli-error.js";

/** The one run ID a command takes, or a UsageError saying what is missing or extra. */
export function singleId(command: string, positionals: string[], usage: string): string {
  if (positionals.length !== 1 || positionals[0] === "") {
    const problem = positionals.length === 0 ? "missing ID" : `expected one ID, got ${positionals.length}`;
    throw new UsageError(`taskwire ${command}: ${problem}`, usage);
  }
  return positionals[0];
}
