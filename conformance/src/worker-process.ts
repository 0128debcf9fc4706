import { spawn } from "node:child_process";
import { parseCommandLine } from "./command-line.js";

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One started process of the worker under test. */
export interface WorkerProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  /** Set once the process has exited. */
  readonly exit: WorkerExit | undefined;
  /** Sends SIGTERM: the worker should finish or release its runs, then exit 0. */
  terminate(): void;
  /** SIGKILL to the process and anything it started; resolves once it is gone. */
  kill(): Promise<void>;
}

export interface StartWorkerOptions {
  command: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Each line the worker prints, stdout and stderr alike. */
  onLine(line: string): void;
}

/**
 * Starts the worker command as its own process group, so that signals reach the worker
 * and whatever it started (`go run` runs the real binary as a child), and so that cleanup
 * leaves nothing behind.
 */
export function startWorkerProcess(options: StartWorkerOptions): WorkerProcess {
  const { env, file, args } = parseCommandLine(options.command);
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: { ...options.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let exit: WorkerExit | undefined;
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once("error", (error) => {
      options.onLine(`cannot start ${file}: ${error.message}`);
      exit ??= { code: 127, signal: null };
      resolve(exit);
    });
    child.once("exit", (code, signal) => {
      exit ??= { code, signal };
      resolve(exit);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) options.onLine(line);
    });
    stream.on("end", () => partial && options.onLine(partial));
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return {
    pid: child.pid ?? -1,
    exited,
    get exit() {
      return exit;
    },
    terminate() {
      if (!exit) signalGroup("SIGTERM");
    },
    async kill() {
      // The group may outlive its leader (a child of `go run`), so signal it regardless.
      signalGroup("SIGKILL");
      await exited;
    },
  };
}
