import { randomUUID } from "node:crypto";
import { AckKind, TaskRunState } from "@taskwire/proto";
import { openRawWorkerStream } from "../raw-worker-stream.js";
import { expectThat, type Scenario } from "../scenario.js";
import { describeRun, resultOf } from "../task-run-probe.js";

const json = (value: unknown) => ({ contentType: "application/json", data: new TextEncoder().encode(JSON.stringify(value)) });

/**
 * Not about the worker under test: documents the fencing contract every worker relies on.
 * A raw stream serving a task key of its own takes a run, then sends Heartbeat and
 * Completed with a wrong lease token; the server must refuse both and change nothing.
 */
export const staleTokenScenario: Scenario = {
  name: "stale-token",
  usesWorker: false,
  expectation: "the server refuses a Heartbeat and a Completed with a wrong lease token (Ack accepted=false) and the run is unchanged",
  async run({ server, runs }) {
    const taskKey = `conformance_stale_token_${randomUUID().slice(0, 8)}`;
    const stream = openRawWorkerStream(server.url, { taskKeys: [taskKey], limit: 1 });
    try {
      const [id] = await runs.schedule(taskKey, ["x"]);
      const assignment = await stream.nextAssignment(5_000);
      const { runId, leaseToken } = assignment;
      expectThat(runId === id, () => `the raw stream was assigned run ${runId}, not ${id}`);
      stream.send({ case: "started", value: { runs: [{ runId, leaseToken }] } });
      await runs.waitForState(id, [TaskRunState.RUNNING], 5_000);

      const stale = `${leaseToken}-stale`;
      stream.send({ case: "heartbeat", value: { runs: [{ runId, leaseToken: stale }] } });
      const heartbeatAck = await stream.nextAck((ack) => ack.runId === runId && ack.kind === AckKind.HEARTBEAT, 5_000);
      expectThat(!heartbeatAck.accepted, () => "the server accepted a Heartbeat with a wrong lease token");
      stream.send({ case: "completed", value: { results: [{ runId, leaseToken: stale, result: json("forged") }] } });
      const refused = await stream.nextAck((ack) => ack.runId === runId && ack.kind === AckKind.COMPLETED, 5_000);
      expectThat(!refused.accepted, () => "the server accepted a Completed with a wrong lease token");
      expectThat(refused.reason !== "", () => "the refusal carries no reason");
      const after = await runs.get(id);
      expectThat(after.state === TaskRunState.RUNNING, () => `after the refused Completed the run is ${describeRun(after)}, not still RUNNING`);

      stream.send({ case: "completed", value: { results: [{ runId, leaseToken, result: json("genuine") }] } });
      const accepted = await stream.nextAck((ack) => ack.runId === runId && ack.kind === AckKind.COMPLETED, 5_000);
      expectThat(accepted.accepted, () => `the server refused the Completed with the right token: ${accepted.reason}`);
      const final = await runs.waitFinal(id, 5_000);
      expectThat(
        final.state === TaskRunState.COMPLETED && resultOf(final) === "genuine",
        () => `with the right token the run is ${describeRun(final)} with result ${JSON.stringify(resultOf(final))}`,
      );
      return `refused with "${refused.reason}"; the right token completed the run`;
    } finally {
      await stream.close();
    }
  },
};
