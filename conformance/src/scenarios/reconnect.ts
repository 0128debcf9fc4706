import { TaskRunState } from "@taskwire/proto";
import { ECHO_TASK, expectThat, type Scenario } from "../scenario.js";
import { describeRun, resultOf } from "../task-run-probe.js";

const WITHIN_MS = 20_000;

export const reconnectScenario: Scenario = {
  name: "reconnect",
  expectation: "when the server stops (Drain) and starts again on the same port, reconnects by itself and runs new work",
  async run({ server, runs, worker }) {
    await server.restart();
    const restarted = Date.now();
    const [id] = await runs.schedule(ECHO_TASK, ["after the restart"]);
    const run = await runs.waitFinal(id, WITHIN_MS);
    const exit = worker.exit;
    expectThat(
      exit === undefined,
      () => `the worker exited (${exit?.signal ?? `code ${exit?.code}`}) when the server went away; it must reconnect by itself`,
    );
    expectThat(
      run.state === TaskRunState.COMPLETED && resultOf(run) === "after the restart",
      () => `${WITHIN_MS / 1000} s after the restart the new run is ${describeRun(run)}: the worker did not reconnect`,
    );
    return `a new run completed ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`;
  },
};
