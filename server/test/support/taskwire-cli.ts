import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The compiled CLI, as `npx taskwire` runs it; `npm test` builds it first (tsc -b). */
export const cliPath = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `taskwire ...args` as its own process, with no TASKWIRE_* setting of the machine
 * running the test, only those of `env`. Asynchronous, so a server in the test's own
 * process keeps answering while the CLI talks to it.
 */
export function runTaskwire(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} does not exist: build first with \`npx tsc -b\``);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...inherited, ...env }, stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
