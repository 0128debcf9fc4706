import { limitTags, type RunRecord } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import type { Lease } from "./lease-table.js";

/**
 * What the broker does at each pass of lease expiry (lease-expiry.ts): the store re-queues
 * every lease that ran out, whichever server granted it, in one statement
 * (Store.requeueExpiredLeases); this server then ends those of its own among them (frees
 * the worker's slot, tells the worker), wakes the dispatch and the watchers, and checks its
 * own leases that memory says ran out but the store did not re-queue.
 */
export interface ExpiredLeases {
  /** Re-queues at most `limit` leases that ran out by `at`; resolves with how many. */
  requeue(at: number, limit: number): Promise<number>;
  /** The server stood still: its leases count as heartbeated now, in the store too, then `then`. */
  stalled(stalledMs: number, then: () => void): void;
}

export function createExpiredLeases(core: BrokerCore, onChanged?: (runIds: readonly string[]) => void): ExpiredLeases {
  const { limits } = core;

  /**
   * The leases the store must leave alone even where its deadline passed: those whose
   * deadline in memory did not (a heartbeat or Started not committed yet, a stall made
   * good), and those whose result or failure waits for the next commit or is in the one in
   * flight (it came in time; on PostgreSQL this pass may run while that commit waits for
   * the database, and would otherwise lock the row first and re-queue it).
   */
  function keptAlive(at: number): string[] {
    const keep: string[] = [];
    for (const lease of core.table.leases.values()) {
      if (lease.deadline > at && (lease.timeoutAt ?? Number.POSITIVE_INFINITY) > at) keep.push(lease.token);
    }
    for (const t of core.commits.pending.batch.transitions) if (t.lease) keep.push(t.lease.token);
    for (const t of core.commits.committing?.batch.transitions ?? []) if (t.lease) keep.push(t.lease.token);
    return keep;
  }

  /** One of this server's leases was re-queued: its worker is told, its slot freed. */
  function endOwn(lease: Lease, run: RunRecord): void {
    // No redelivery counted, the timeout's error: the attempt timed out (retried, failed or cancelled).
    const timedOut = run.redeliveries === lease.run.redeliveries && run.error?.type === "TimeoutError";
    let reason: string;
    if (timedOut) {
      reason = `timed out after ${lease.run.options.timeoutSeconds}s`;
    } else {
      // A worker that does not acknowledge may not be reading its stream, and one that
      // stopped heartbeating is likely stuck: it gets no more work until it names this
      // lease again, or more runs would pile up unread or go straight back to it.
      lease.session.missedLeases.add(lease.token);
      reason = lease.running
        ? `lease expired: no heartbeat for ${limits.leaseDurationMs} ms`
        : `not acknowledged within ${limits.ackTimeoutMs} ms`;
    }
    core.outcomes.endLease(lease);
    core.commits.pending.started.delete(run.id);
    if (lease.session.connected) lease.session.channel.cancel([run.id], reason);
  }

  /**
   * Own leases past their deadline in memory that the pass did not re-queue: a heartbeat
   * reached another server, or another server re-queued the lease. The store says which.
   */
  async function checkOverdue(at: number, requeued: ReadonlySet<string>): Promise<void> {
    const { leases } = core.table;
    const overdue = [...leases.values()].filter(
      (l) => !requeued.has(l.run.id) && (l.deadline <= at || (l.timeoutAt ?? Number.POSITIVE_INFINITY) <= at),
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
  }

  return {
    async requeue(at, limit) {
      if (core.closing) return 0;
      const runs = await core.store.requeueExpiredLeases({
        now: at,
        limit,
        origin: core.serverId,
        keep: keptAlive(at),
        ackTimeoutMs: limits.ackTimeoutMs,
        leaseDurationMs: limits.leaseDurationMs,
        defaultMaxRedeliveries: limits.defaultMaxRedeliveries,
      });
      const requeued = new Set<string>();
      for (const run of runs) {
        requeued.add(run.id);
        const lease = core.table.leases.get(run.id);
        if (lease && lease.run.attempts === run.attempts) endOwn(lease, run);
        if (run.state === "SCHEDULED") {
          if (run.scheduledAt <= core.now()) core.dispatcher.markKeyReady(run.taskKey);
          else core.wakeUp.noLaterThan(run.scheduledAt);
        }
        // Room under a limit this run counted against: runs it held back may go.
        if (limitTags(run).some((tag) => core.dispatcher.limitedTags.has(tag))) core.dispatcher.wakeAll();
      }
      if (runs.length > 0) {
        const ids = [...requeued];
        core.watchers.changedElsewhere(ids);
        onChanged?.(ids);
        core.commits.queueFlush();
      }
      await checkOverdue(at, requeued);
      return runs.length;
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
