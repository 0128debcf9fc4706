import { execFile, spawn } from "node:child_process";
import { CliError } from "./cli-error.js";

// `python -m taskwire` with the SDK missing says only "No module named taskwire".
const FIND_SDK = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('taskwire') else 3)";
const SDK_MISSING = 3;
// The Python worker's setting (sdk-python/taskwire/serve.py) to drain when stdin ends.
const STOP_ON_STDIN_EOF = "TASKWIRE_STOP_ON_STDIN_EOF";

/** True for `tasks.py:fn` or `tasks.py`: an entrypoint the Python SDK serves. */
export function isPythonEntrypoint(spec: string): boolean {
  return /\.py(:[\w.]+)?$/.test(spec);
}

/**
 * `taskwire task serve tasks.py:fn`: the Python SDK's worker does it (`python -m taskwire
 * task serve`, the same shape), so one `taskwire` command serves tasks of either language.
 * The interpreter is $TASKWIRE_PYTHON, else `python3` on PATH (the one whose
 * `pip install` put taskwire in place). Its exit code is returned.
 *
 * The worker gets each signal once, from this process: it runs in a process group of its
 * own. In ours, a terminal's Ctrl-C would reach it twice (from the terminal, and passed
 * on from here), and a worker's second signal hands its runs in flight back at once
 * instead of letting them finish.
 *
 * A process group of its own also keeps the worker out of reach of what ends us without
 * a word (SIGKILL, to us or to our group): its stdin is a pipe from us, and with
 * TASKWIRE_STOP_ON_STDIN_EOF=1 it drains as on SIGTERM when the pipe ends, which the
 * kernel does however we die (an uncaught error too: the worker then finishes its runs
 * rather than being killed with them). Without it the worker would serve on with nobody
 * watching.
 */
export async function servePythonTasks(entrypoints: string[], limit: number | undefined): Promise<number> {
  const python = process.env.TASKWIRE_PYTHON || "python3";
  await requirePythonSdk(python);
  const args = ["-m", "taskwire", "task", "serve", ...entrypoints, ...(limit === undefined ? [] : ["--limit", String(limit)])];
  const child = spawn(python, args, {
    stdio: ["pipe", "inherit", "inherit"],
    detached: true,
    env: { ...process.env, [STOP_ON_STDIN_EOF]: "1" },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  // SIGHUP too (a closed terminal), which reaches only our group: without it the worker
  // would keep serving after its terminal is gone.
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new CliError(
            error.code === "ENOENT"
              ? `${python} is not on PATH: Python entrypoints are served by the Python SDK (pip install ./sdk-python); set TASKWIRE_PYTHON to its interpreter`
              : `could not start ${python}: ${error.message}`,
          ),
        ),
      );
      child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1)));
    });
  } finally {
    // Nothing is written to it; left open, its handle would keep our event loop alive.
    child.stdin?.destroy();
    for (const signal of signals) process.off(signal, forward);
  }
}

/** Refuses, saying how to install it, when `python` cannot import the taskwire SDK. */
async function requirePythonSdk(python: string): Promise<void> {
  const code = await new Promise<number | string>((resolve) => {
    execFile(python, ["-c", FIND_SDK], (error) => {
      if (error === null) resolve(0);
      else resolve(typeof error.code === "number" ? error.code : (error.code ?? "failed"));
    });
  });
  if (code === "ENOENT") {
    throw new CliError(`${python} is not on PATH: Python entrypoints are served by the Python SDK (pip install ./sdk-python); set TASKWIRE_PYTHON to its interpreter`);
  }
  if (code === SDK_MISSING) {
    throw new CliError(
      `${python} has no taskwire module: Python entrypoints are served by the Python SDK. Install it for that interpreter ` +
        "(pip install ./sdk-python, distribution taskwire-sdk), or set TASKWIRE_PYTHON to the interpreter of the venv that has it",
    );
  }
}
