/**
 * Tells a periodic timer how long the process was not running before it fired: stopped
 * (SIGSTOP, a suspended VM), or its event loop blocked by a long synchronous job.
 *
 * While the server does not run it reads no socket, so the heartbeats and results its
 * workers sent meanwhile wait unread. A lease sweep that fired right after such a stall
 * would expire those leases before reading them (timers run before I/O in Node's loop) and
 * the runs would run twice. The sweep asks this detector instead and postpones every
 * deadline by the stall: a server that was not running does not blame its workers for it.
 */
export interface StallDetector {
  /** Call from the timer: the milliseconds the process stood still beyond the interval, or 0. */
  check(): number;
}

export interface StallDetectorOptions {
  /** How often the timer is meant to fire. */
  intervalMs: number;
  clock: () => number;
  /**
   * Lateness still counted as normal timer jitter. Timers here fire 1–5 ms late when idle and
   * up to about 50 ms late on a loaded 2-core machine; 100 ms late means sockets went unread.
   */
  toleranceMs?: number;
}

export function createStallDetector(options: StallDetectorOptions): StallDetector {
  const { intervalMs, clock } = options;
  const toleranceMs = options.toleranceMs ?? 100;
  let last = clock();
  return {
    check() {
      const at = clock();
      const late = at - last - intervalMs;
      last = at;
      return late > toleranceMs ? late : 0;
    },
  };
}
