import type { AnyTask } from "./task.js";
import type { TaskwireClient } from "./taskwire-client.js";
import { createWorker } from "./worker.js";

export interface ServeOptions {
  /** Runs in flight at most; default 10. */
  limit?: number;
  client?: TaskwireClient;
  /** How long runs in flight may take to finish after SIGINT/SIGTERM; default 10 s. */
  graceMs?: number;
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

/**
 * Serves tasks as a worker: the server pushes runs to it over one stream, up to `limit` at a
 * time, and several workers share the load. Reconnects when the server goes away. On
 * SIGINT or SIGTERM it stops taking work, lets runs in flight finish (up to `graceMs`),
 * hands the rest back, and resolves; a second signal exits at once.
 *
 * @example
 * serve(sendEmail, resizeImage, { limit: 20 });
 */
export async function serve(...args: (AnyTask | ServeOptions)[]): Promise<void> {
  const tasks = args.filter((arg): arg is AnyTask => typeof arg === "function");
  const options: ServeOptions = Object.assign({}, ...args.filter((arg) => typeof arg !== "function"));
  const worker = createWorker({ tasks, limit: options.limit, client: options.client, graceMs: options.graceMs });
  if (options.handleSignals === false) return worker.start();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`taskwire: ${signal}: finishing runs in flight, then stopping (again to exit now)\n`);
    void worker.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await worker.start();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
