import { type TaskRun, TaskRunState } from "@taskwire/proto";
import type { ConformanceServer } from "./conformance-server.js";
import { ScenarioFailure } from "./scenario.js";

const JSON_CONTENT_TYPE = "application/json";

/** How scenarios schedule runs and watch what the worker makes of them, as any caller would. */
export interface TaskRunProbe {
  /** Schedules runs of `taskKey`, one per argument list, in one commit; returns their ids. */
  schedule(taskKey: string, ...argLists: unknown[][]): Promise<string[]>;
  get(id: string): Promise<TaskRun>;
  /** Waits (on the server, no polling) until the run is final or `ms` passed; returns it as it is, with its history. */
  waitFinal(id: string, ms: number): Promise<TaskRun>;
  /** Waits until the run is in one of `states`; throws ScenarioFailure naming its state after `ms`. */
  waitForState(id: string, states: TaskRunState[], ms: number): Promise<TaskRun>;
  /** Runs of `taskKey` in these states, newest first, without parameters or results. */
  list(taskKey: string, states: TaskRunState[]): Promise<TaskRun[]>;
  cancel(id: string): Promise<void>;
}

export function createTaskRunProbe(server: Pick<ConformanceServer, "client">): TaskRunProbe {
  const taskRuns = () => server.client.taskRuns;

  async function get(id: string): Promise<TaskRun> {
    const { taskRun } = await taskRuns().getTaskRun({ id });
    if (!taskRun) throw new Error(`GetTaskRun(${id}) answered without a run`);
    return taskRun;
  }

  return {
    async schedule(taskKey, ...argLists) {
      const { runs } = await taskRuns().scheduleTaskRuns({
        runs: argLists.map((args) => ({
          taskKey,
          parameters: { contentType: JSON_CONTENT_TYPE, data: new TextEncoder().encode(JSON.stringify({ args, kwargs: {} })) },
        })),
      });
      return runs.map((run) => run.id);
    },
    get,
    async waitFinal(id, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        // WaitTaskRun holds at most 60 s on the server; loop for longer waits.
        const left = Math.max(1, deadline - Date.now());
        const { taskRun, final } = await taskRuns().waitTaskRun({ id, timeoutMs: Math.min(left, 60_000) });
        if (!taskRun) throw new Error(`WaitTaskRun(${id}) answered without a run`);
        // GetTaskRun too: only it fills the history.
        if (final || Date.now() >= deadline) return get(id);
      }
    },
    async waitForState(id, states, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const run = await get(id);
        if (states.includes(run.state)) return run;
        if (isFinal(run.state) || Date.now() > deadline) {
          throw new ScenarioFailure(
            `run ${id} (${run.taskKey}) is ${describeRun(run)} after ${((Date.now() - deadline + ms) / 1000).toFixed(1)} s; expected ${states.map((s) => TaskRunState[s]).join(" or ")}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async list(taskKey, states) {
      const found: TaskRun[] = [];
      let pageToken = "";
      do {
        const page = await taskRuns().listTaskRuns({ taskKeys: [taskKey], states, pageSize: 1000, pageToken });
        found.push(...page.taskRuns);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return found;
    },
    async cancel(id) {
      await taskRuns().cancelTaskRun({ id });
    },
  };
}

export function isFinal(state: TaskRunState): boolean {
  return state === TaskRunState.COMPLETED || state === TaskRunState.FAILED || state === TaskRunState.CANCELLED;
}

/** The run's result, decoded from JSON. */
export function resultOf(run: TaskRun): unknown {
  const data = run.result?.data;
  if (!data || data.byteLength === 0) return undefined;
  return JSON.parse(new TextDecoder().decode(data));
}

/** "COMPLETED", "FAILED (TypeError: boom)", "SCHEDULED (requeued: lease expired …)": for reasons. */
export function describeRun(run: TaskRun): string {
  const state = TaskRunState[run.state];
  if (run.error && run.state !== TaskRunState.COMPLETED) return `${state} (${run.error.type}: ${run.error.message})`;
  const last = run.history.at(-1)?.message;
  return last ? `${state} (${last})` : state;
}
