import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTaskwireClient, setDefaultClient, type TaskRunFuture } from "taskwire";
import type { BenchDatabase } from "./bench-database.js";
import type { BenchOptions, BenchSystem } from "./bench-system.js";
import { benchTasks } from "./bench-tasks.js";
import { completedBetween } from "./completed-between.js";
import { freePort, startProcess, stopProcess } from "./processes.js";

const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const workerScript = fileURLToPath(new URL("./bench-worker.js", import.meta.url));

/**
 * taskwire as the workloads measure it: `servers` server processes on `database` (SQLite in
 * a temporary home, or a fresh PostgreSQL database per workload), the producer talking to
 * the first server and the workers to the last.
 */
export function createTaskwireSystem(database: BenchDatabase, servers: number, options: BenchOptions): BenchSystem<TaskRunFuture<number>> {
  const tasks = benchTasks(options.keys);
  return {
    label: `taskwire (${database.store}, ${servers} server${servers === 1 ? "" : "s"})`,
    close: () => database.close(),
    async open() {
      const home = mkdtempSync(join(tmpdir(), "taskwire-bench-"));
      const databaseUrl = await database.fresh();
      const ports = await Promise.all(Array.from({ length: servers }, () => freePort()));
      const urls = ports.map((port) => `http://127.0.0.1:${port}`);
      const env = { TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "warn", ...(databaseUrl ? { TASKWIRE_DATABASE_URL: databaseUrl } : {}) };
      const children: ChildProcess[] = [];
      // One after the other: the first creates the schema.
      for (const port of ports) children.push(await startProcess([cli, "server", "start", "--port", String(port)], env, "listening on"));
      const client = createTaskwireClient({ apiUrl: urls[0], apiKey: "" });
      setDefaultClient(client);
      const workerEnv = { ...env, TASKWIRE_API_URL: urls[urls.length - 1] };
      return {
        serverPids: children.map((child) => child.pid ?? 0),
        databaseCpuSeconds: () => database.cpuSeconds(),
        delay: (n, padding) => tasks[n % tasks.length].applyAsync(padding ? [n, padding] : [n]),
        result: async (future) => void (await future.result()),
        allDone: async (futures) => void (await Promise.all(futures.map((future) => future.wait()))),
        startWorker: () => startProcess([workerScript, "50", String(options.keys)], workerEnv, "bench worker ready"),
        completedBetween: (start, end) => completedBetween(client, start, end),
        async close() {
          client.close();
          for (const child of children) await stopProcess(child);
          rmSync(home, { recursive: true, force: true });
        },
      };
    },
  };
}
