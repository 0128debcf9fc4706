import { Code, ConnectError } from "@connectrpc/connect";
import type { Broker } from "../broker/broker.js";
import { FINAL_STATES } from "../store/store.js";
import { runFromSpec } from "./run-codec.js";

/**
 * `RetryTaskRun`: a new run of a final run's task, with its parameters and options, and
 * the two linked both ways: the new run's first history entry reads "retry of <id>", and
 * the old run gets a log line "retried as <new id>". The idempotency key is left out, or
 * the new run would be the old one. Returns the new run's id.
 */
export async function retryTaskRun(broker: Broker, id: string): Promise<string> {
  const old = await broker.getRun(id);
  if (!FINAL_STATES.has(old.state)) {
    throw new ConnectError(
      `task run ${id} is ${old.state}: only a COMPLETED, FAILED or CANCELLED run can be retried (cancel it first)`,
      Code.FailedPrecondition,
    );
  }
  const now = Date.now();
  const { retryDelaySeconds, retryJitterFactor, timeoutSeconds, priority, tags, retries, maxRedeliveries } = old.options;
  const next = runFromSpec(
    {
      taskKey: old.taskKey,
      parameters: { ...old.parameters, $typeName: "taskwire.v1.Payload" },
      options: {
        $typeName: "taskwire.v1.TaskRunOptions",
        retries,
        retryDelaySeconds,
        retryJitterFactor,
        timeoutSeconds,
        priority,
        idempotencyKey: "",
        tags,
        maxRedeliveries,
      },
    },
    "run",
    broker.limits,
    now,
  );
  next.history[0].message = `retry of ${old.id}`;
  next.logs.push({ runId: old.id, at: now, level: "info", message: `retried as ${next.record.id}`, attempt: old.attempts });
  const [{ id: newId }] = await broker.schedule([next]);
  return newId;
}
