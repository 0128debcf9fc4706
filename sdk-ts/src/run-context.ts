import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";

/**
 * What a running task can know about its run.
 *
 * @example
 * const slow = task(async function slow() {
 *   const { signal } = currentRun()!;
 *   await fetch(url, { signal }); // aborted on cancel or timeout
 * });
 */
export interface RunContext {
  /** The run's id; empty for a foreground call with no server. */
  readonly runId: string;
  readonly taskKey: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborts when the run is cancelled, times out, or its worker shuts down. */
  readonly signal: AbortSignal;
  /** Adds a line to the run's logs. */
  log(message: string, level?: "debug" | "info" | "warn" | "error"): void;
}

interface Frame {
  context: RunContext;
  logPrints: boolean;
}

const storage = new AsyncLocalStorage<Frame>();

/** The run the calling code belongs to, or undefined outside a task. */
export function currentRun(): RunContext | undefined {
  return storage.getStore()?.context;
}

/** Runs `fn` as part of a run: currentRun() answers, and console output may become logs. */
export function withRunContext<T>(context: RunContext, logPrints: boolean, fn: () => T): T {
  if (logPrints) capturePrints();
  return storage.run({ context, logPrints }, fn);
}

let captured = false;

/**
 * With `logPrints`, console output inside a task is also stored as the run's logs (still
 * printed, as Prefect's log_prints does). Patched once, and only when a task asks for it.
 */
function capturePrints(): void {
  if (captured) return;
  captured = true;
  const levels = { log: "info", info: "info", warn: "warn", error: "error", debug: "debug" } as const;
  for (const [method, level] of Object.entries(levels) as [keyof typeof levels, (typeof levels)[keyof typeof levels]][]) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      original(...args);
      const frame = storage.getStore();
      if (frame?.logPrints) frame.context.log(format(...args), level);
    };
  }
}
