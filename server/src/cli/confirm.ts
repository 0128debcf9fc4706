import { createInterface } from "node:readline";

/**
 * Asks a yes/no question on stderr and reads the answer from stdin: true only for "y" or
 * "yes". A closed or empty stdin answers no, so a script that forgot `--yes` changes nothing.
 */
export async function confirm(question: string): Promise<boolean> {
  const readline = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write(`${question} [y/N] `);
  try {
    const answer = await new Promise<string>((resolve) => {
      readline.once("line", resolve);
      readline.once("close", () => resolve(""));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    readline.close();
  }
}
