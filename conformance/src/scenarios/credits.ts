import { TaskRunState } from "@taskwire/proto";
import { expectThat, SLEEP_TASK, type Scenario } from "../scenario.js";
import { describeRun, resultOf } from "../task-run-probe.js";

const RUNS = 20;
const TIMEOUT_MS = 25_000;
/** ListTaskRuns this often: runs of 1 s hold their slots for 40 samples. */
const SAMPLE_MS = 25;

export const creditsScenario: Scenario = {
  name: "credits",
  expectation: `with ${RUNS} runs of 1 s queued, holds at most its limit at once, uses all of it, and completes them all`,
  async run({ runs, limit }) {
    const ids = await runs.schedule(SLEEP_TASK, ...Array.from({ length: RUNS }, () => [1]));
    const mine = new Set(ids);
    const started = Date.now();
    let peak = 0;
    for (;;) {
      const held = (await runs.list(SLEEP_TASK, [TaskRunState.PENDING, TaskRunState.RUNNING])).filter((run) => mine.has(run.id));
      peak = Math.max(peak, held.length);
      expectThat(held.length <= limit, () => `${held.length} runs were PENDING or RUNNING at once on a worker with limit ${limit}`);
      if (held.length === 0) {
        const open = (await runs.list(SLEEP_TASK, [TaskRunState.SCHEDULED])).filter((run) => mine.has(run.id));
        if (open.length === 0) break;
      }
      expectThat(Date.now() - started < TIMEOUT_MS, () => `not all ${RUNS} runs finished within ${TIMEOUT_MS / 1000} s (peak ${peak} at once)`);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
    const seconds = (Date.now() - started) / 1000;
    const finished = await Promise.all(ids.map((id) => runs.get(id)));
    const bad = finished.filter((run) => run.state !== TaskRunState.COMPLETED || resultOf(run) !== "done");
    expectThat(bad.length === 0, () => `${bad.length} of ${RUNS} runs did not complete with "done"; first: ${describeRun(bad[0])}`);
    const redelivered = finished.filter((run) => run.redeliveries > 0).length;
    expectThat(redelivered === 0, () => `${redelivered} runs were redelivered: assignments went unacknowledged or leases expired`);
    expectThat(
      peak === limit,
      () => `never more than ${peak} runs at once with limit ${limit}: the worker must announce TASKWIRE_WORKER_LIMIT in Hello and run that many concurrently`,
    );
    return `peak ${peak} in flight (limit ${limit}), ${RUNS} completed in ${seconds.toFixed(1)} s`;
  },
};
