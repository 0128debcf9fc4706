import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { createTaskwireClient, type TaskwireClient } from "taskwire";
import { freePort, startProcess, stopProcess } from "../../../server/src/bench/processes.js";

const cli = fileURLToPath(new URL("../../../server/dist/cli/main.js", import.meta.url));
const tasks = fileURLToPath(new URL("../fixtures/ui-tasks.ts", import.meta.url));

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.TASKWIRE_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface Dashboard {
  url: string;
  client: TaskwireClient;
  /** A `taskwire task serve` process for these exports of fixtures/ui-tasks.ts. */
  startWorker(exports: string[], limit: number): ChildProcess;
  stop(): Promise<void>;
}

/**
 * A real `taskwire server start` process on a free port with its own TASKWIRE_HOME, and
 * with `worker`, a `taskwire task serve` process serving the tasks of fixtures/ui-tasks.ts.
 */
export async function startDashboard(options: { apiKey?: string; worker?: boolean } = {}): Promise<Dashboard> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-ui-"));
  const url = `http://127.0.0.1:${await freePort()}`;
  const env = { TASKWIRE_HOME: home, TASKWIRE_API_URL: url, TASKWIRE_LOG_LEVEL: "warn", TASKWIRE_API_KEY: options.apiKey ?? "" };
  const port = new URL(url).port;
  const server = await startProcess([cli, "server", "start", "--port", port], env, "listening on");
  const workers: ChildProcess[] = [];
  const startWorker = (exports: string[], limit: number) => {
    const worker = spawn(process.execPath, [cli, "task", "serve", ...exports.map((name) => `${tasks}:${name}`), "--limit", String(limit)], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    workers.push(worker);
    return worker;
  };
  if (options.worker) startWorker(["greet", "flaky", "chatty", "slow", "failsOnce"], 10);
  const client = createTaskwireClient({ apiUrl: url, apiKey: options.apiKey ?? "" });
  return {
    url,
    client,
    startWorker,
    async stop() {
      client.close();
      await Promise.all(workers.map((worker) => stopProcess(worker)));
      await stopProcess(server);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A JSON payload of a run's parameters: {"args": [...], "kwargs": {}}. */
export function args(...values: unknown[]) {
  return { contentType: "application/json", data: new TextEncoder().encode(JSON.stringify({ args: values, kwargs: {} })) };
}
