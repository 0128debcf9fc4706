import { setTimeout as sleep } from "node:timers/promises";
import { TaskRunState } from "@taskwire/proto";
import { expectThat, SLEEP_TASK, type Scenario } from "../scenario.js";
import { describeRun, resultOf } from "../task-run-probe.js";

const EXIT_WITHIN_MS = 15_000;

export const drainScenario: Scenario = {
  name: "drain",
  expectation: "on SIGTERM during a 1 s run, finishes it (or Releases it) and exits 0; the run completes without a redelivery",
  async run(context) {
    const { runs } = context;
    const [id] = await runs.schedule(SLEEP_TASK, [1]);
    await runs.waitForState(id, [TaskRunState.RUNNING], 10_000);
    const worker = context.worker;
    worker.terminate();
    const exit = await Promise.race([worker.exited, sleep(EXIT_WITHIN_MS, undefined)]);
    // The next scenarios need a worker whatever happened here; a released run needs one too.
    await context.restartWorker();
    expectThat(exit !== undefined, () => `the worker was still running ${EXIT_WITHIN_MS / 1000} s after SIGTERM`);
    expectThat(
      exit.code === 0,
      () =>
        exit.signal
          ? `after SIGTERM the worker was killed by signal ${exit.signal}, not exit 0: handle SIGTERM by draining (a launcher such as \`go run\` or \`npx\` dies of the signal itself: start the worker directly)`
          : `after SIGTERM the worker exited with code ${exit.code}, not 0: handle SIGTERM by draining`,
    );
    const run = await runs.waitFinal(id, 15_000);
    expectThat(
      run.redeliveries === 0,
      () => `the run was lost (redeliveries ${run.redeliveries}, ${describeRun(run)}): a stopping worker must finish its runs or send Released before it closes the stream`,
    );
    expectThat(run.state === TaskRunState.COMPLETED && resultOf(run) === "done", () => `the run is ${describeRun(run)}`);
    return run.attempts === 1 ? "the run finished before the worker exited 0" : "the run was released, the worker exited 0, and a restarted worker completed it";
  },
};
