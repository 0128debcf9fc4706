import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { defaultClient } from "./default-client.js";
import { recordForegroundRun } from "./foreground-recorder.js";
import { encodeParameters, JSON_CONTENT_TYPE } from "./json-payload.js";
import { type RunContext, withRunContext } from "./run-context.js";
import { serve } from "./serve.js";
import { createTaskRunFuture, type TaskRunFuture } from "./task-run-future.js";
import type { TaskwireClient } from "./taskwire-client.js";

/** How runs of a task are executed; every option can be overridden per run with `applyAsync`. */
export interface RunOptions {
  /** Failed attempts the server retries; default 0. */
  retries?: number;
  /** Seconds before each retry: one number, or one per retry with the last repeating. */
  retryDelaySeconds?: number | number[];
  /** Spread each retry delay by up to this fraction (0.2 = ±20%). */
  retryJitterFactor?: number;
  /** Per-attempt timeout; the task's AbortSignal fires and the attempt fails as timed out. */
  timeoutSeconds?: number;
  /** Higher runs first within the task key. */
  priority?: number;
  tags?: string[];
  /** Attempts lost to dead workers tolerated before the run fails; default 5. */
  maxRedeliveries?: number;
}

export interface TaskOptions extends RunOptions {
  /** The task key; default the function's name. Keep it stable: queued runs are found by it. */
  name?: string;
  /** Store console output of the task as the run's logs (it is still printed). */
  logPrints?: boolean;
  /** The server to use; default the one TASKWIRE_API_URL or the active profile names. */
  client?: TaskwireClient;
  /**
   * The names of the function's parameters, in order. A caller in another language may
   * pass keyword arguments (Python's `greet.delay(name="Ford")`): with these names each
   * goes to its parameter's position, and one naming no parameter fails the run. Without
   * them, keyword arguments arrive as one last object argument (`{ name: "Ford" }`), for
   * a task that takes a typed object.
   */
  parameterNames?: readonly string[];
}

export interface DelayOptions extends RunOptions {
  /** Do not start before this time. */
  scheduledTime?: Date;
  /** Do not start before this many seconds from now. */
  delaySeconds?: number;
  /** A second schedule with the same key returns the first run instead of running again. */
  idempotencyKey?: string;
  /** Keyword arguments, for a task in a language that has them (a Python task). */
  kwargs?: Record<string, unknown>;
}

/** Any task, whatever its arguments and result (what `serve` and workers accept). */
// biome-ignore lint/suspicious/noExplicitAny: a task of any signature must fit here.
export type AnyTask = Task<any[], any>;

/**
 * A task: call it to run it now, `delay()` it to have a worker run it.
 */
export interface Task<A extends unknown[] = unknown[], R = unknown> {
  /** Runs the function now, in this process, and returns what it returns. */
  (...args: A): R;
  /** The stable name workers and the server know this task by. */
  readonly taskKey: string;
  readonly options: Readonly<TaskOptions>;
  /** The function itself, as workers call it. */
  readonly fn: (...args: A) => R;
  /**
   * Schedules a run with these arguments. Resolves once the server has committed it.
   * @throws UnserializableValueError when an argument cannot travel as JSON.
   * @throws ConnectError when the server is unreachable or refuses the run.
   */
  delay(...args: A): Promise<TaskRunFuture<Awaited<R>>>;
  /** `delay` with options for this run: a scheduled time, an idempotency key, retries… */
  applyAsync(args: A, options?: DelayOptions): Promise<TaskRunFuture<Awaited<R>>>;
  /** Serves this task as a worker until SIGINT or SIGTERM; see `serve`. */
  serve(options?: { limit?: number }): Promise<void>;
}

/**
 * Defines a task from a function. The task key is `options.name`, or the function's name.
 *
 * @example
 * const greet = task(function greet(name = "Marvin") {
 *   console.log(`Hello, ${name}!`);
 * }, { logPrints: true });
 * greet();                                 // runs now
 * const run = await greet.delay("Arthur"); // a worker runs it
 */
export function task<A extends unknown[], R>(fn: (...args: A) => R, options?: TaskOptions): Task<A, R>;
/** Defines a task under an explicit task key. */
export function task<A extends unknown[], R>(name: string, fn: (...args: A) => R, options?: TaskOptions): Task<A, R>;
export function task<A extends unknown[], R>(
  first: string | ((...args: A) => R),
  second?: ((...args: A) => R) | TaskOptions,
  third?: TaskOptions,
): Task<A, R> {
  const fn = (typeof first === "string" ? second : first) as (...args: A) => R;
  const options: TaskOptions = { ...(typeof first === "string" ? { ...third, name: first } : (second as TaskOptions)) };
  if (typeof fn !== "function") throw new TypeError("task() needs a function");
  const taskKey = (options.name ?? fn.name).trim();
  if (!taskKey) {
    throw new TypeError("task(): the function has no name; pass { name: \"...\" } (the task key workers look for)");
  }
  const client = () => options.client ?? defaultClient();

  const call = (...args: A): R => runInForeground(taskKey, options, fn, args, client);

  async function applyAsync(args: A, delayOptions: DelayOptions = {}): Promise<TaskRunFuture<Awaited<R>>> {
    const merged = { ...options, ...delayOptions };
    const delays = merged.retryDelaySeconds;
    const scheduledAt =
      merged.scheduledTime?.getTime() ??
      (merged.delaySeconds !== undefined ? Date.now() + merged.delaySeconds * 1000 : undefined);
    const data = encodeParameters(args, delayOptions.kwargs);
    const { id, existing } = await client().schedule({
      taskKey,
      parameters: { contentType: JSON_CONTENT_TYPE, data },
      options: {
        scheduledTime: scheduledAt !== undefined ? timestampFromMs(scheduledAt) : undefined,
        retries: merged.retries ?? 0,
        retryDelaySeconds: delays === undefined ? [] : Array.isArray(delays) ? delays : [delays],
        retryJitterFactor: merged.retryJitterFactor ?? 0,
        timeoutSeconds: merged.timeoutSeconds ?? 0,
        priority: merged.priority ?? 0,
        idempotencyKey: delayOptions.idempotencyKey ?? "",
        tags: merged.tags ?? [],
        maxRedeliveries: merged.maxRedeliveries ?? 0,
      },
    });
    return createTaskRunFuture<Awaited<R>>(client(), id, existing);
  }

  return Object.assign(call, {
    taskKey,
    options,
    fn,
    delay: (...args: A) => applyAsync(args),
    applyAsync,
    serve(serveOptions?: { limit?: number }) {
      return serve(call as Task, { ...serveOptions });
    },
  }) as unknown as Task<A, R>;
}

function runInForeground<A extends unknown[], R>(
  taskKey: string,
  options: TaskOptions,
  fn: (...args: A) => R,
  args: A,
  client: () => TaskwireClient,
): R {
  const startedAt = Date.now();
  const logs: { at: number; level: string; message: string }[] = [];
  const context: RunContext = {
    runId: "",
    taskKey,
    attempt: 1,
    signal: new AbortController().signal,
    log: (message, level = "info") => logs.push({ at: Date.now(), level, message }),
  };
  const record = (outcome: { value: unknown } | { error: unknown }) =>
    recordForegroundRun(client(), { taskKey, args, startedAt, endedAt: Date.now(), outcome, logs, tags: options.tags ?? [] });
  let value: R;
  try {
    value = withRunContext(context, options.logPrints ?? false, () => fn(...args));
  } catch (error) {
    record({ error });
    throw error;
  }
  if (value instanceof Promise) {
    return value.then(
      (resolved) => {
        record({ value: resolved });
        return resolved;
      },
      (error) => {
        record({ error });
        throw error;
      },
    ) as R;
  }
  record({ value });
  return value;
}
