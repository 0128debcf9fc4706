import type { ConformanceServer } from "./conformance-server.js";
import type { TaskRunProbe } from "./task-run-probe.js";
import type { WorkerProcess } from "./worker-process.js";

/** The task keys every worker under test serves. */
export const ECHO_TASK = "conformance_echo";
export const SLEEP_TASK = "conformance_sleep";

/** What a scenario works with. */
export interface ScenarioContext {
  readonly server: ConformanceServer;
  readonly runs: TaskRunProbe;
  /** The worker process running now (a scenario may stop it and start another). */
  readonly worker: WorkerProcess;
  /** Stops the current worker process if it still runs, and starts the command again. */
  restartWorker(): Promise<WorkerProcess>;
  /** The limit the worker was given (TASKWIRE_WORKER_LIMIT). */
  readonly limit: number;
}

/** One behaviour of the worker protocol, checked against the worker under test. */
export interface Scenario {
  /** Short id, as `--only` takes it. */
  readonly name: string;
  /** False for a scenario about the server alone, which needs no running worker. */
  readonly usesWorker?: boolean;
  /** What a passing worker does, in one line. */
  readonly expectation: string;
  /** Resolves with what was observed when it passed; throws ScenarioFailure with the reason otherwise. */
  run(context: ScenarioContext): Promise<string>;
}

/** A scenario's failure, with a reason a worker's author can act on. */
export class ScenarioFailure extends Error {
  override name = "ScenarioFailure";
}

/** Throws ScenarioFailure(reason) unless the condition holds. */
export function expectThat(condition: boolean, reason: () => string): asserts condition {
  if (!condition) throw new ScenarioFailure(reason());
}
