import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { createEarliestTimer } from "./earliest-timer.js";

/**
 * Takes back leases that ran out, from the store, on one timer for the next deadline.
 *
 * The store is the truth: a heartbeat may reach another server (WorkerService.Heartbeat),
 * and a lease may belong to a server that died. So a pass re-queues the leases that ran out
 * in the store with one statement (`requeue`, see Store.requeueExpiredLeases), whichever
 * server granted them, and the broker then ends those of its own among them.
 *
 * The timer is set for the earliest of: this server's own leases (known in memory), the
 * other servers' leases (read after each pass), and `peerCheckMs` from now: a peer that
 * claims runs and dies after our last read is found by then (no notification is sent per
 * claim; that would cost a message per claim for a rare event).
 *
 * A server that was not running (stopped, its loop blocked) fires its timer late. Its
 * workers' heartbeats then wait unread in its sockets, so it first moves its own leases on
 * by the stall (`onStall`, written to the store), and only then expires anything.
 */
export interface LeaseExpiry {
  /** A deadline of this server's own leases: the timer fires no later than it. */
  noLaterThan(at: number): void;
  close(): void;
}

export interface LeaseExpiryOptions {
  store: Pick<Store, "nextLeaseDeadline">;
  serverId: string;
  clock: () => number;
  logger: Logger;
  peerCheckMs: number;
  /** Earliest deadline of this server's own leases, from memory (Infinity for none). */
  localNext(): number;
  /** The process stood still for `stalledMs`: extend its own leases by as much, then call `then`. */
  onStall(stalledMs: number, then: () => void): void;
  /** Re-queues at most `limit` leases that ran out by `at`; resolves with how many. */
  requeue(at: number, limit: number): Promise<number>;
  /**
   * Timer lateness still counted as jitter. Timers here fire 1–5 ms late when idle and up
   * to about 50 ms late on a loaded 2-core machine; 100 ms late means sockets went unread.
   */
  toleranceMs?: number;
  /** At most this many leases per pass; a full pass is followed by another at once. */
  batchSize?: number;
}

export function createLeaseExpiry(options: LeaseExpiryOptions): LeaseExpiry {
  const { store, clock, logger } = options;
  const toleranceMs = options.toleranceMs ?? 100;
  const batchSize = options.batchSize ?? 1_000;
  let passing = false;
  let closed = false;

  const timer = createEarliestTimer(clock, (armedFor) => {
    const late = clock() - armedFor;
    // Timers run before socket reads in Node's loop: the pass waits for the check phase,
    // after the poll phase has read what the sockets hold.
    if (late > toleranceMs) {
      logger.warn({ stalledMs: late }, "the server did not run for a while; its leases move on by as much");
      options.onStall(late, () => setImmediate(pass));
    } else {
      setImmediate(pass);
    }
  });
  const arm = timer.noLaterThan;

  function pass(): void {
    if (closed || passing) return;
    passing = true;
    const at = clock();
    expire(at)
      .then((next) => {
        passing = false;
        // Other servers' leases still out after a pass are being re-queued by another server
        // (its statement holds them; SKIP LOCKED passed them by): a second look sooner than
        // 1 s would find them again and spin until that commit is done.
        const others = next === at ? at : Math.max(next, at + 1_000);
        arm(Math.min(others, options.localNext(), at + options.peerCheckMs));
      })
      .catch((error: unknown) => {
        passing = false;
        if (closed) return;
        logger.error({ err: error }, "could not re-queue expired leases; trying again in 1 s");
        arm(clock() + 1_000);
      });
  }

  async function expire(at: number): Promise<number> {
    const requeued = await options.requeue(at, batchSize);
    if (requeued === batchSize) return at;
    return (await store.nextLeaseDeadline(options.serverId)) ?? Number.POSITIVE_INFINITY;
  }

  // Leases of servers that died before this one started (and ran out since) need a pass too.
  arm(clock());

  return {
    noLaterThan: arm,
    close() {
      closed = true;
      timer.close();
    },
  };
}
