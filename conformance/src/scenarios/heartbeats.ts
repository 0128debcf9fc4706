import { TaskRunState } from "@taskwire/proto";
import { CONFORMANCE_LIMITS } from "../conformance-server.js";
import { expectThat, SLEEP_TASK, type Scenario } from "../scenario.js";
import { describeRun } from "../task-run-probe.js";

const SECONDS = 5;

export const heartbeatsScenario: Scenario = {
  name: "heartbeats",
  expectation: `keeps the lease of a ${SECONDS} s run (lease ${CONFORMANCE_LIMITS.leaseDurationMs / 1000} s) by heartbeating, so it completes without redelivery`,
  async run({ runs }) {
    const [id] = await runs.schedule(SLEEP_TASK, [SECONDS]);
    const run = await runs.waitFinal(id, SECONDS * 1000 + 8_000);
    expectThat(
      run.redeliveries === 0,
      () => `the run was redelivered ${run.redeliveries} time(s) (${describeRun(run)}): the worker let its ${CONFORMANCE_LIMITS.leaseDurationMs / 1000} s lease expire; send Heartbeat every Welcome.heartbeat_interval_ms`,
    );
    expectThat(run.state === TaskRunState.COMPLETED, () => `the run is ${describeRun(run)}`);
    expectThat(run.attempts === 1, () => `the run took ${run.attempts} attempts`);
    return `completed after ${SECONDS} s on its first lease`;
  },
};
