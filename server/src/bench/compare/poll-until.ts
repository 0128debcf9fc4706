import { setTimeout as sleep } from "node:timers/promises";

/**
 * Asks `done` every `intervalMs` until it says yes: how the producer learns that a job of
 * graphile-worker or pg-boss finished, as neither hands results back to the caller.
 */
export async function pollUntil(done: () => Promise<boolean>, intervalMs: number): Promise<void> {
  while (!(await done())) await sleep(intervalMs);
}

/** The version of an installed package, for the label of a contender. */
export async function packageVersion(name: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const { fileURLToPath } = await import("node:url");
  const manifest = JSON.parse(await readFile(fileURLToPath(import.meta.resolve(`${name}/package.json`)), "utf8")) as { version: string };
  return manifest.version;
}
