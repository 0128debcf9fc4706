import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** One process of an example: what to run, and the line it prints once it is ready. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Output (stdout or stderr) that means the process is up; the next one starts only then. */
  ready: string;
}

export interface ProcessGroup {
  /** Starts the processes one after the other, each once the one before is ready. */
  start(specs: ProcessSpec[]): Promise<void>;
  /** Asks every process to stop (SIGTERM, last started first) and waits until all are gone. */
  stop(): Promise<void>;
}

// A process that has not printed its ready line by then has failed to start. 30 s covers a
// cold Python start with its imports on a busy 2-core machine.
const READY_TIMEOUT_MS = 30_000;

/**
 * Runs the processes of an example like a small process manager: each line of output is
 * prefixed with the process name, each start prints `started <name> (pid <pid>)`, a process
 * that dies is reported and not restarted (the others keep running, as in production), and
 * Ctrl-C stops them all.
 *
 * Children get their own process group (`detached`) so that Ctrl-C in the terminal reaches
 * only this launcher, which then sends each child exactly one SIGTERM: a graceful stop.
 */
export function createProcessGroup(): ProcessGroup {
  const children: { name: string; child: ChildProcess }[] = [];
  let stopping = false;

  function startOne(spec: ProcessSpec): Promise<void> {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    children.push({ name: spec.name, child });
    let output = "";
    let ready = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name} printed no "${spec.ready}" in ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      const onData = (chunk: string) => {
        process.stdout.write(`[${spec.name}] ${chunk}\n`);
        if (ready) return;
        output += chunk;
        if (output.includes(spec.ready)) {
          ready = true;
          clearTimeout(timer);
          process.stdout.write(`started ${spec.name} (pid ${child.pid})\n`);
          resolve();
        }
      };
      if (child.stdout) eachLine(child.stdout, onData);
      if (child.stderr) eachLine(child.stderr, onData);
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name}: ${error.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (!stopping) process.stdout.write(`${spec.name} exited (${signal ?? `code ${code}`})\n`);
        reject(new Error(`${spec.name} exited (${signal ?? `code ${code}`}) before it was ready`));
      });
    });
  }

  async function stop(): Promise<void> {
    stopping = true;
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }

  // If the launcher itself ends some other way, its children must not outlive it.
  process.once("exit", () => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  return {
    async start(specs) {
      for (const spec of specs) await startOne(spec);
    },
    stop,
  };
}

/** Calls `onLine` with each whole line of the stream, so two processes' lines never interleave. */
function eachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/** Starts the processes, stops them all on Ctrl-C (SIGINT) or SIGTERM, then exits. */
export async function runProcessGroup(specs: ProcessSpec[], banner: string): Promise<void> {
  const group = createProcessGroup();
  let signalled = false;
  const onSignal = () => {
    if (signalled) return;
    signalled = true;
    process.stdout.write("stopping every process…\n");
    void group.stop().then(() => {
      process.stdout.write("all stopped\n");
      process.exit(0);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await group.start(specs);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    await group.stop();
    process.exit(1);
  }
  process.stdout.write(`${banner}\n(Ctrl-C stops every process)\n`);
}
