import { TaskRunState } from "@taskwire/proto";
import { expectThat, SLEEP_TASK, type Scenario } from "../scenario.js";
import { describeRun } from "../task-run-probe.js";

const WITHIN_MS = 2_000;

export const cancelScenario: Scenario = {
  name: "cancel",
  expectation: `stops a running conformance_sleep(30) on Cancel: the run ends CANCELLED within ${WITHIN_MS / 1000} s`,
  async run({ runs }) {
    const [id] = await runs.schedule(SLEEP_TASK, [30]);
    await runs.waitForState(id, [TaskRunState.RUNNING], 10_000);
    const asked = Date.now();
    await runs.cancel(id);
    const run = await runs.waitFinal(id, WITHIN_MS);
    const ms = Date.now() - asked;
    expectThat(
      run.state === TaskRunState.CANCELLED,
      () => `the run is ${describeRun(run)} ${(ms / 1000).toFixed(1)} s after the cancel: on Cancel the worker must abort the run and report Failed`,
    );
    return `CANCELLED ${ms} ms after the request`;
  },
};
