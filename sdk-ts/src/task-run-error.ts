import type { TaskRunSnapshot } from "./task-run-snapshot.js";

/**
 * What `future.result()` throws when the run did not complete: it carries the error as the
 * worker reported it, in whatever language the worker was written.
 *
 * @example
 * try { await run.result(); } catch (e) { if (e instanceof TaskRunError) console.log(e.remoteType); }
 */
export class TaskRunError extends Error {
  override name = "TaskRunError";
  /** The error's type in the worker's language ("TypeError", "ValueError"). */
  readonly remoteType: string;
  readonly remoteMessage: string;
  readonly remoteStack: string;
  constructor(readonly run: TaskRunSnapshot) {
    const error = run.error ?? { type: run.state, message: `the run ended ${run.state}`, stack: "" };
    super(`task run ${run.id} (${run.taskKey}) ${run.state}: ${error.type}: ${error.message}`);
    this.remoteType = error.type;
    this.remoteMessage = error.message;
    this.remoteStack = error.stack;
  }
  get runId(): string {
    return this.run.id;
  }
}

/** What `future.result(timeoutMs)` throws when the run is not final in time. */
export class TaskRunTimeoutError extends Error {
  override name = "TaskRunTimeoutError";
  constructor(readonly run: TaskRunSnapshot, timeoutMs: number) {
    super(`task run ${run.id} (${run.taskKey}) is still ${run.state} after ${timeoutMs} ms`);
  }
}
