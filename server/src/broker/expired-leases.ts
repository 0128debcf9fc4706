import type { RunRecord, StoredError, Transition } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import type { Lease } from "./lease-table.js";
import { retryDelayMs, shouldRetry } from "./retry-policy.js";
import { cancelledTransition as cancelled, retryTransition } from "./run-transitions.js";

/**
 * What the broker does with the leases that lease-expiry.ts finds run out in the store:
 * its own are checked against memory first (one moved on by a stall is kept); another
 * server's (or a dead one's) are ended from the row alone. Every expiry is fenced by the
 * deadline still passed, so a lease extended meanwhile on any server stays.
 */
export interface ExpiredLeases {
  expire(runs: RunRecord[], at: number): Promise<void>;
  /** The server stood still: its leases count as heartbeated now, in the store too, then `then`. */
  stalled(stalledMs: number, then: () => void): void;
}

export function createExpiredLeases(core: BrokerCore): ExpiredLeases {
  const { limits } = core;

  function expireOwn(lease: Lease, at: number): void {
    const { outcomes } = core;
    // An attempt past its timeout fails as timed out (and may retry), even if its lease
    // ran out in the same pass: the timeout is what the user asked for.
    if (lease.timeoutAt !== undefined && at >= lease.timeoutAt) {
      // The worker should have aborted the attempt itself; fence it off and fail the attempt.
      const seconds = lease.run.options.timeoutSeconds;
      lease.session.channel.cancel([lease.run.id], `timed out after ${seconds}s`);
      outcomes.failAttempt(lease, timeoutError(seconds), at);
    } else if (!lease.running) {
      // A worker that does not acknowledge may not be reading its stream: more work would
      // pile up unread and come back at the next ack deadline, until the runs fail.
      lease.session.missedLeases.add(lease.token);
      outcomes.loseLease(lease, `not acknowledged within ${limits.ackTimeoutMs} ms`, at);
    } else {
      // A worker that stopped heartbeating is likely stuck: it gets no more work until it
      // names this lease again, or the run would go straight back to it.
      lease.session.missedLeases.add(lease.token);
      outcomes.loseLease(lease, `lease expired: no heartbeat for ${limits.leaseDurationMs} ms`, at);
    }
  }

  /** Expiries written and not committed yet, by run id: a pass meanwhile leaves them alone. */
  const queued = new Set<string>();

  /** A lease of another server (or of none alive) that ran out: its worker is not ours to tell. */
  function expireOther(run: RunRecord, at: number): void {
    const { outcomes } = core;
    if (queued.has(run.id)) return;
    let t: Transition;
    if (run.timeoutAt !== undefined && at >= run.timeoutAt) {
      const error = timeoutError(run.options.timeoutSeconds);
      t = run.cancelReason
        ? cancelled(run, run.cancelReason, at, error)
        : shouldRetry(run.options, run.retriesUsed, true)
          ? retryTransition(run, error, at, retryDelayMs(run.options, run.retriesUsed))
          : outcomes.transition(run, "FAILED", { endedAt: at, error }, `${error.type}: ${error.message}`);
    } else {
      const reason =
        run.state === "PENDING" ? `not acknowledged within ${limits.ackTimeoutMs} ms` : `lease expired: no heartbeat for ${limits.leaseDurationMs} ms`;
      t = run.cancelReason
        ? cancelled(run, run.cancelReason, at)
        : outcomes.lostTransition(run, `${reason} (server ${run.leaseServerId ?? "unknown"})`, true);
    }
    t.lease = { attempt: run.attempts, token: run.leaseToken ?? "", expiredAt: at };
    queued.add(run.id);
    outcomes.writeTransition(run, t, () => queued.delete(run.id));
    core.dispatcher.markKeyReady(run.taskKey);
  }

  return {
    async expire(runs, at) {
      if (core.closing) return;
      const { leases } = core.table;
      const found = new Set<string>();
      for (const run of runs) {
        found.add(run.id);
        const lease = leases.get(run.id);
        if (lease && lease.token === run.leaseToken) {
          if (lease.deadline > at && (lease.timeoutAt ?? Number.POSITIVE_INFINITY) > at) continue;
          expireOwn(lease, at);
        } else {
          expireOther(run, at);
        }
      }
      // Own leases past their deadline in memory but not in the store: a heartbeat reached
      // another server, or another server took the lease back. The store says which.
      const overdue = [...leases.values()].filter(
        (l) => !found.has(l.run.id) && (l.deadline <= at || (l.timeoutAt ?? Number.POSITIVE_INFINITY) <= at),
      );
      if (overdue.length === 0) return;
      const stored = new Map((await core.store.getRuns(overdue.map((l) => l.run.id))).map((run) => [run.id, run]));
      for (const lease of overdue) {
        const run = stored.get(lease.run.id);
        if (leases.get(lease.run.id) !== lease) continue;
        if (run?.leaseToken === lease.token) {
          lease.deadline = Math.max(run.leaseDeadline ?? 0, at + limits.heartbeatIntervalMs);
          lease.timeoutAt = run.timeoutAt;
        } else {
          core.outcomes.dropLease(lease, "the lease was taken back by another server");
        }
      }
    },
    stalled(stalledMs, then) {
      // Heartbeats of this server's workers wait unread in its sockets: every lease it holds
      // counts as heartbeated now, in the store too, before any lease is expired.
      const { leases } = core.table;
      const deadline = core.now() + limits.leaseDurationMs;
      for (const lease of leases.values()) {
        if (lease.timeoutAt !== undefined) lease.timeoutAt += stalledMs;
        core.outcomes.extendLease(lease, deadline);
      }
      if (leases.size === 0) then();
      else core.commits.write(() => {}, then);
    },
  };
}

export function timeoutError(seconds: number): StoredError {
  return { type: "TimeoutError", message: `the attempt exceeded its timeout of ${seconds}s`, stack: "", retryable: true };
}
