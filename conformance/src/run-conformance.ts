import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskRunState } from "@taskwire/proto";
import { type ConformanceServer, startConformanceServer } from "./conformance-server.js";
import { ECHO_TASK, type Scenario, type ScenarioContext, ScenarioFailure } from "./scenario.js";
import { ackScenario } from "./scenarios/ack.js";
import { cancelScenario } from "./scenarios/cancel.js";
import { creditsScenario } from "./scenarios/credits.js";
import { drainScenario } from "./scenarios/drain.js";
import { heartbeatsScenario } from "./scenarios/heartbeats.js";
import { reconnectScenario } from "./scenarios/reconnect.js";
import { staleTokenScenario } from "./scenarios/stale-token.js";
import { createTaskRunProbe, describeRun } from "./task-run-probe.js";
import { startWorkerProcess, type WorkerProcess } from "./worker-process.js";

/**
 * In this order: ack first (it also waits out the worker's start-up), reconnect last (it
 * restarts the server under the worker).
 */
export const SCENARIOS: readonly Scenario[] = [
  ackScenario,
  creditsScenario,
  heartbeatsScenario,
  cancelScenario,
  staleTokenScenario,
  drainScenario,
  reconnectScenario,
];

export interface ConformanceOptions {
  /** Starts the worker under test; it gets TASKWIRE_API_URL and TASKWIRE_WORKER_LIMIT. */
  workerCommand: string;
  /** Where the command runs; default the current directory. */
  cwd?: string;
  /** Scenario names to run; default all. */
  only?: string[];
  /** The worker's limit; default 3. */
  limit?: number;
  /** pino level for the server's log; default "silent". */
  serverLogLevel?: string;
  /** Store the server's runs in this PostgreSQL database (postgresql://…); default SQLite. */
  databaseUrl?: string;
  /** Called once the server is up, before the worker starts. */
  onServer?(server: ConformanceServer): void;
  /** Called as each scenario ends. */
  onResult?(result: ScenarioResult): void;
  /** Each line the worker prints. */
  onWorkerLine?(line: string): void;
}

export interface ScenarioResult {
  name: string;
  expectation: string;
  passed: boolean;
  /** What was observed when it passed, the reason when it failed. */
  detail: string;
  ms: number;
}

export interface ConformanceReport {
  results: ScenarioResult[];
  passed: boolean;
  /** The worker's last output lines (all its processes), for a failure's context. */
  workerOutput: string[];
}

/** A scenario still running after this is failed and the next one starts. */
const SCENARIO_TIMEOUT_MS = 60_000;
const OUTPUT_LINES_KEPT = 200;

/**
 * Starts a taskwire server with short limits in this process, starts the worker command
 * against it, and runs the scenarios one after another.
 *
 * @throws Error when an `only` name is not a scenario.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const unknown = (options.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario ${unknown.join(", ")}; the scenarios are ${SCENARIOS.map((s) => s.name).join(", ")}`);
  }
  const scenarios = options.only ? SCENARIOS.filter((s) => options.only?.includes(s.name)) : SCENARIOS;
  const limit = options.limit ?? 3;
  const output: string[] = [];
  let workerNumber = 0;
  const server = await startConformanceServer({ logLevel: options.serverLogLevel, databaseUrl: options.databaseUrl });
  options.onServer?.(server);
  const workerHome = mkdtempSync(join(tmpdir(), "taskwire-conformance-worker-"));
  // Only the settings given here: the machine's profile or TASKWIRE_* must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  Object.assign(env, {
    TASKWIRE_API_URL: server.url,
    TASKWIRE_WORKER_LIMIT: String(limit),
    TASKWIRE_HOME: workerHome,
    PYTHONUNBUFFERED: "1",
  });
  const runs = createTaskRunProbe(server);

  const startWorker = () => {
    const n = ++workerNumber;
    return startWorkerProcess({
      command: options.workerCommand,
      env,
      cwd: options.cwd ?? process.cwd(),
      onLine(line) {
        const tagged = `[worker ${n}] ${line}`;
        output.push(tagged);
        if (output.length > OUTPUT_LINES_KEPT) output.shift();
        options.onWorkerLine?.(tagged);
      },
    });
  };
  let worker: WorkerProcess = startWorker();

  const context: ScenarioContext = {
    server,
    runs,
    limit,
    get worker() {
      return worker;
    },
    async restartWorker() {
      if (!worker.exit) await worker.kill();
      worker = startWorker();
      // Serving once a run went through it: a worker still starting up would make the next scenario flaky.
      const [id] = await runs.schedule(ECHO_TASK, ["ready?"]);
      const died = worker.exited.then(({ code, signal }) => {
        throw new ScenarioFailure(`the restarted worker exited (${signal ?? `code ${code}`}) before serving`);
      });
      died.catch(() => {}); // Raced below; it rejects later anyway, when the suite stops the worker.
      const run = await Promise.race([runs.waitFinal(id, 20_000), died]);
      if (run.state !== TaskRunState.COMPLETED) {
        throw new ScenarioFailure(`the restarted worker did not serve within 20 s: a probe run is ${describeRun(run)}`);
      }
      return worker;
    },
  };

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      const began = Date.now();
      let passed = false;
      let detail: string;
      try {
        if (worker.exit && scenario.usesWorker !== false) {
          const { code, signal } = worker.exit;
          output.push(`[conformance] the worker had exited (${signal ?? `code ${code}`}); starting it again for ${scenario.name}`);
          await context.restartWorker();
        }
        detail = await withTimeout(scenario.run(context), SCENARIO_TIMEOUT_MS);
        passed = true;
      } catch (error) {
        detail = error instanceof ScenarioFailure ? error.message : `the scenario could not run: ${(error as Error).message ?? error}`;
      }
      const result = { name: scenario.name, expectation: scenario.expectation, passed, detail, ms: Date.now() - began };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await worker.kill();
    await server.close();
    rmSync(workerHome, { recursive: true, force: true });
  }
  return { results, passed: results.every((r) => r.passed), workerOutput: output };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ScenarioFailure(`no outcome within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
