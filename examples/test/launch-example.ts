import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../server/src/bench/processes.js";

// Starts an example as its README does (`npm run example:<name>` runs this same file) and
// gives the test the pids of its processes, from the launcher's `started <name> (pid N)`.

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface LaunchedExample {
  launcher: ChildProcess;
  /** Each process's pid by its name in the launcher. */
  pids: Map<string, number>;
  taskwireUrl: string;
  appUrl: string;
  home: string;
  output(): string;
  /** Ctrl-C to the launcher; resolves with its exit code once it has exited. */
  interrupt(): Promise<number | null>;
  /** Kills whatever is left and removes the temporary TASKWIRE_HOME. */
  cleanUp(): Promise<void>;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts examples/dist/<name>/main.js on free ports; resolves once every process is up. */
export async function launchExample(
  name: string,
  extraEnv: (home: string) => Record<string, string> = () => ({}),
  readyTimeoutMs = 60_000,
): Promise<LaunchedExample> {
  const home = mkdtempSync(join(tmpdir(), `taskwire-example-${name}-`));
  const taskwirePort = await freePort();
  const appPort = await freePort();
  // A developer's own TASKWIRE_* settings must not leak into the processes under test.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const env = { ...clean, TASKWIRE_HOME: home, TASKWIRE_SERVER_PORT: String(taskwirePort), PORT: String(appPort), TASKWIRE_LOG_LEVEL: "warn", ...extraEnv(home) };
  const launcher = spawn(process.execPath, [join(root, `examples/dist/${name}/main.js`)], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const pids = new Map<string, number>();
  const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example ${name} was not up after ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      // The whole output, not the chunk: a pipe may cut a line in two.
      for (const match of output.matchAll(/^started (\S+) \(pid (\d+)\)$/gm)) pids.set(match[1], Number(match[2]));
      if (output.includes("Ctrl-C stops every process")) {
        clearTimeout(timer);
        resolve();
      }
    };
    launcher.stdout?.on("data", onData);
    launcher.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`example ${name} exited (${code}) before it was up:\n${output}`));
    });
  });
  return {
    launcher,
    pids,
    home,
    taskwireUrl: `http://127.0.0.1:${taskwirePort}`,
    appUrl: `http://127.0.0.1:${appPort}`,
    output: () => output,
    async interrupt() {
      if (launcher.exitCode === null) launcher.kill("SIGINT");
      return exited;
    },
    async cleanUp() {
      if (launcher.exitCode === null && launcher.signalCode === null) {
        launcher.kill("SIGKILL");
        await exited;
      }
      for (const pid of pids.values()) if (isAlive(pid)) process.kill(pid, "SIGKILL");
      rmSync(home, { recursive: true, force: true });
    },
  };
}
