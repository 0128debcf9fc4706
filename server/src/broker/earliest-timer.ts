/**
 * One timer for the earliest of the times asked for: `noLaterThan(at)` moves it earlier,
 * never later; when it fires it is unset until asked again. The lease expiry and the
 * scheduled wake-up each run on one.
 */
export interface EarliestTimer {
  noLaterThan(at: number): void;
  close(): void;
}

// setTimeout fires at once past 2^31-1 ms (24.8 days): a farther time waits in steps.
const MAX_TIMEOUT_MS = 2_147_483_647;

/** `onFire(at)` is called with the time the timer was set for (it may run late). */
export function createEarliestTimer(clock: () => number, onFire: (at: number) => void): EarliestTimer {
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;
  let closed = false;

  function noLaterThan(at: number): void {
    if (closed || at >= armedFor) return;
    clearTimeout(timer);
    armedFor = at;
    timer = setTimeout(fire, Math.min(Math.max(0, at - clock()), MAX_TIMEOUT_MS));
    timer.unref();
  }

  function fire(): void {
    const at = armedFor;
    armedFor = Number.POSITIVE_INFINITY;
    timer = undefined;
    // A step of a far time (or a clock set back): not due yet, wait again.
    if (at > clock() + 1_000) return noLaterThan(at);
    onFire(at);
  }

  return {
    noLaterThan,
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
