import type { Logger } from "pino";
import type { Store } from "./store.js";

export interface RetentionOptions {
  store: Store;
  logger: Logger;
  /** Finished runs older than this (by end time) are deleted. */
  retentionMs: number;
  clock?: () => number;
}

/** 1,000 runs a transaction: a few milliseconds of blocking, then the loop serves again. */
const CHUNK = 1_000;

/**
 * Deletes finished runs past their retention in the background, so the database does not
 * grow without bound. Runs every tenth of the retention period (at most hourly, at least
 * every second), in chunks that leave the event loop free between them.
 */
export function startRetention(options: RetentionOptions): { sweep(): Promise<number>; stop(): void } {
  const now = options.clock ?? Date.now;
  let stopped = false;
  async function sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = await options.store.deleteFinished(now() - options.retentionMs, CHUNK);
      deleted += n;
      if (n < CHUNK || stopped) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (deleted > 0) options.logger.info({ deleted }, "deleted finished runs past retention");
    return deleted;
  }
  const period = Math.min(Math.max(options.retentionMs / 10, 1_000), 3_600_000);
  const timer = setInterval(() => {
    sweep().catch((error) => options.logger.error({ err: error }, "retention sweep failed"));
  }, period);
  timer.unref();
  return {
    sweep,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
