import type { TaskRun } from "@taskwire/proto";
import { decodeJson } from "./json-payload.js";
import { TaskRunError, TaskRunTimeoutError } from "./task-run-error.js";
import { snapshotFromProto, type TaskRunSnapshot } from "./task-run-snapshot.js";
import type { TaskwireClient } from "./taskwire-client.js";

/**
 * A scheduled run, as `delay()` returns it: durable already, run by a worker when one is free.
 *
 * @example
 * const run = await greet.delay("Agrajag");
 * console.log(run.id, await run.result()); // "Hello, Agrajag!"
 */
export interface TaskRunFuture<T> {
  readonly id: string;
  /** True when the idempotency key matched an earlier run, which this future is. */
  readonly existing: boolean;
  /**
   * Waits for the run to end and returns it; after `timeoutMs`, returns it as it is then.
   * Waiting shares one server stream with every other future of the client: no polling.
   */
  wait(timeoutMs?: number): Promise<TaskRunSnapshot>;
  /**
   * The task's return value. Throws TaskRunError (with the remote error type, message and
   * stack) when the run failed or was cancelled, TaskRunTimeoutError when not final in time.
   */
  result(timeoutMs?: number): Promise<T>;
  /** Asks the server to cancel the run; a running task sees its AbortSignal fire. */
  cancel(): Promise<TaskRunSnapshot>;
}

export function createTaskRunFuture<T>(client: TaskwireClient, id: string, existing: boolean): TaskRunFuture<T> {
  let final: TaskRun | undefined;

  async function waitForRun(timeoutMs?: number): Promise<TaskRun> {
    if (final) return final;
    if (timeoutMs === undefined) {
      final = await client.whenFinal(id);
      return final;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("timeout")), timeoutMs);
    try {
      final = await client.whenFinal(id, abort.signal);
      return final;
    } catch (error) {
      if (!abort.signal.aborted) throw error;
      const { taskRun } = await client.taskRuns.getTaskRun({ id });
      if (!taskRun) throw new Error(`task run ${id} not found`);
      return taskRun;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    id,
    existing,
    async wait(timeoutMs) {
      return snapshotFromProto(await waitForRun(timeoutMs));
    },
    async result(timeoutMs) {
      const run = await waitForRun(timeoutMs);
      const snapshot = snapshotFromProto(run);
      if (!snapshot.final) throw new TaskRunTimeoutError(snapshot, timeoutMs ?? 0);
      if (snapshot.state !== "COMPLETED") throw new TaskRunError(snapshot);
      const payload = run.result;
      if (payload && payload.contentType !== "application/json") return payload.data as T;
      return decodeJson(payload?.data ?? new Uint8Array()) as T;
    },
    async cancel() {
      const { taskRun } = await client.taskRuns.cancelTaskRun({ id });
      if (!taskRun) throw new Error(`task run ${id} not found`);
      return snapshotFromProto(taskRun);
    },
  };
}
