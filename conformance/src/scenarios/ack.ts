import { isDeepStrictEqual } from "node:util";
import { TaskRunState } from "@taskwire/proto";
import { ECHO_TASK, expectThat, type Scenario, ScenarioFailure } from "../scenario.js";
import { describeRun, resultOf } from "../task-run-probe.js";

/** Includes the worker's start-up: an interpreter and its imports can take seconds. */
const FIRST_RUN_TIMEOUT_MS = 20_000;

export const ackScenario: Scenario = {
  name: "ack",
  expectation: "acknowledges an assignment (Started: the run goes RUNNING) and completes it with the right result",
  async run({ runs, worker }) {
    // Unicode, nesting and null: what JSON round trips through another language must keep.
    const value = { text: "héllo, wörld 👋", numbers: [1, 2.5, -3], nested: { ok: true, nothing: null } };
    const [id] = await runs.schedule(ECHO_TASK, [value]);
    const died = worker.exited.then(({ code, signal }) => {
      throw new ScenarioFailure(`the worker exited (${signal ?? `code ${code}`}) before completing its first run`);
    });
    died.catch(() => {}); // Raced below; it rejects later anyway, when the suite stops the worker.
    const run = await Promise.race([runs.waitFinal(id, FIRST_RUN_TIMEOUT_MS), died]);
    expectThat(run.state === TaskRunState.COMPLETED, () => `${ECHO_TASK} is ${describeRun(run)} after ${FIRST_RUN_TIMEOUT_MS / 1000} s`);
    const result = resultOf(run);
    expectThat(isDeepStrictEqual(result, value), () => `${ECHO_TASK} returned ${JSON.stringify(result)}, not its first argument ${JSON.stringify(value)}`);
    const states = run.history.map((t) => TaskRunState[t.state]);
    expectThat(states.includes("RUNNING"), () => `the run never went RUNNING (history ${states.join(" → ")}): the worker sent no Started before its result`);
    expectThat(run.redeliveries === 0, () => `the run was redelivered ${run.redeliveries} time(s): the first assignment was not acknowledged within the ack timeout`);
    return `${states.join(" → ")}, result equal to the argument`;
  },
};
