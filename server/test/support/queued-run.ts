import { newRunId } from "../../src/store/run-id.js";
import type { NewRun, RunRecord } from "../../src/store/store.js";
import { json } from "./json-payload.js";

/** A run as `delay()` stores it, due at `at`: SCHEDULED, default options, its first history row. */
export function queuedRun(taskKey: string, at: number, over: Partial<RunRecord> = {}, options: Partial<RunRecord["options"]> = {}): NewRun {
  const record: RunRecord = {
    id: newRunId(at),
    taskKey,
    state: "SCHEDULED",
    parameters: json({ args: [], kwargs: {} }),
    options: { retries: 0, retryDelaySeconds: [], retryJitterFactor: 0, timeoutSeconds: 0, priority: 0, idempotencyKey: "", tags: [], maxRedeliveries: 5, ...options },
    attempts: 0,
    retriesUsed: 0,
    redeliveries: 0,
    createdAt: at,
    scheduledAt: at,
    foreground: false,
    ...over,
  };
  return { record, history: [{ state: "SCHEDULED", at, attempt: 0, message: "" }], logs: [] };
}
