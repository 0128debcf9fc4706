/** A worker command split the way a shell would split a simple command. */
export interface CommandLine {
  /** Leading NAME=value words, as a shell would set them for the command. */
  env: Record<string, string>;
  file: string;
  args: string[];
}

/**
 * Splits a command line into words: whitespace separates, '…' and "…" quote, \ escapes.
 * No pipes, globs or variables: the worker is started directly (not under a shell) so that
 * the SIGTERM of the drain scenario reaches it and its exit code is its own.
 *
 * @throws TypeError on an unclosed quote or an empty command.
 */
export function parseCommandLine(line: string): CommandLine {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new TypeError(`unclosed ${quote} in the worker command: ${line}`);
  if (word !== undefined) words.push(word);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) {
    const assignment = words.shift() as string;
    const eq = assignment.indexOf("=");
    env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
  }
  const [file, ...args] = words;
  if (!file) throw new TypeError("the worker command is empty");
  return { env, file, args };
}
