import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository's root: the first directory above this file with the server's build in it.
 * Found by walking up, so the same code works compiled (examples/dist/shared) and under tsx.
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "server/dist/cli/main.js"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("the taskwire server build is missing: run `npx tsc -b` at the repository's root");
    dir = parent;
  }
  return dir;
}

/** `taskwire` as a command: the server's CLI run by this node. */
export function taskwireCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(repoRoot(), "server/dist/cli/main.js")] };
}

/** The Python that has the taskwire SDK: $PYTHON, else the repository's venv (sdk-python/.venv). */
export function pythonCommand(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = join(repoRoot(), "sdk-python/.venv/bin/python");
  if (!existsSync(venv)) {
    throw new Error(
      `no Python with the taskwire SDK at ${venv}: create it with ` +
        "`python3 -m venv sdk-python/.venv && sdk-python/.venv/bin/pip install -e './sdk-python[dev]'`",
    );
  }
  return venv;
}

/** The directory of an example's sources (examples/<name>), compiled or not. */
export function exampleDir(name: string): string {
  return join(repoRoot(), "examples", name);
}
