import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { createEarliestTimer } from "./earliest-timer.js";

/**
 * One timer for the next run scheduled for later: when it fires, every key may have due
 * runs (`onDue`), and the timer is set for the next one. No polling: a run scheduled for
 * later moves the timer earlier (`noLaterThan`), on this server or, through the change
 * feed, on another.
 */
export interface ScheduledWakeUp {
  noLaterThan(at: number): void;
  /** Reads the next scheduled time from the store and sets the timer for it. */
  readNext(): void;
  close(): void;
}

export interface ScheduledWakeUpOptions {
  store: Pick<Store, "nextScheduledAt">;
  clock: () => number;
  logger: Logger;
  onDue(): void;
}

export function createScheduledWakeUp(options: ScheduledWakeUpOptions): ScheduledWakeUp {
  const { store, clock, logger } = options;
  const timer = createEarliestTimer(clock, () => {
    options.onDue();
    readNext();
  });
  const { noLaterThan } = timer;
  let closed = false;

  /**
   * A failed read (SQLITE_BUSY) must not leave the timer unset, or those runs would wait
   * for an unrelated write: it is read again in 1 s.
   */
  function readNext(): void {
    store.nextScheduledAt(clock()).then(
      (next) => {
        if (next !== undefined) noLaterThan(next);
      },
      (error: unknown) => {
        if (closed) return;
        logger.error({ err: error }, "could not read when the next scheduled run is due; trying again in 1 s");
        noLaterThan(clock() + 1_000);
      },
    );
  }

  return {
    noLaterThan,
    readNext,
    close() {
      closed = true;
      timer.close();
    },
  };
}
