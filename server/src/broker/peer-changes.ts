import type { Changes } from "../store/change-feed.js";
import type { BrokerCore } from "./broker-core.js";
import type { PendingWork } from "./group-commit.js";

/** What the other servers are to hear of a commit: keys due, runs changed, the next wake-up. */
export function changesOf(work: PendingWork, at: number): Changes {
  let wakeAt: number | undefined;
  for (const t of work.batch.transitions) {
    const scheduledAt = t.patch.scheduledAt ?? 0;
    if (t.patch.state === "SCHEDULED" && scheduledAt > at) wakeAt = Math.min(wakeAt ?? scheduledAt, scheduledAt);
  }
  for (const { record } of work.batch.inserts) {
    if (record.state === "SCHEDULED" && record.scheduledAt > at) wakeAt = Math.min(wakeAt ?? record.scheduledAt, record.scheduledAt);
  }
  return {
    due: [...work.dueKeys],
    // New runs too: no watcher waits on them yet, but the live lists of the web UI show them.
    changed: [...work.batch.transitions.map((t) => t.runId), ...work.batch.inserts.map((i) => i.record.id)],
    wakeAt,
    limits: work.limitsFreed,
  };
}

/**
 * Changes made through another server, heard from the change feed: this server wakes what
 * it would have woken had the change been its own (a dispatch, the wake-up timer, watchers,
 * the worker of a lease to cancel).
 */
export function createPeerChanges(
  core: BrokerCore,
  onChanged?: (runIds: readonly string[] | "all") => void,
): (changes: Changes) => void {
  function refreshLimitedTags(): void {
    core.store.listConcurrencyLimits().then(
      (limits) => {
        const { limitedTags } = core.dispatcher;
        limitedTags.clear();
        for (const l of limits) limitedTags.add(l.tag);
      },
      (error: unknown) => core.logger.error({ err: error }, "could not read the concurrency limits"),
    );
  }

  /** Cancel requests for this server's leases that came while the feed was down. */
  function rereadCancels(): void {
    const ids = [...core.table.leases.keys()];
    if (ids.length === 0) return;
    core.store.getRuns(ids).then(
      (runs) => {
        for (const run of runs) {
          const lease = core.table.leases.get(run.id);
          if (!lease || lease.token !== run.leaseToken || !run.cancelReason || lease.cancelReason) continue;
          lease.cancelReason = run.cancelReason;
          if (lease.session.connected) lease.session.channel.cancel([run.id], run.cancelReason);
        }
      },
      (error: unknown) => core.logger.error({ err: error }, "could not read the cancel requests missed while the change feed was down"),
    );
  }

  return (changes) => {
    if (core.closing) return;
    const { dispatcher } = core;
    if (changes.resync || changes.limits) {
      dispatcher.wakeAll();
      if (changes.resync) core.wakeUp.readNext();
      if (changes.limits) refreshLimitedTags();
    }
    for (const key of changes.due ?? []) dispatcher.keyDue(key);
    if (changes.wakeAt !== undefined) core.wakeUp.noLaterThan(changes.wakeAt);
    for (const { runId, reason } of changes.cancels ?? []) {
      const lease = core.table.leases.get(runId);
      if (!lease) continue;
      lease.cancelReason ??= reason;
      if (lease.session.connected) lease.session.channel.cancel([runId], lease.cancelReason);
    }
    if (changes.resync) {
      core.watchers.changedElsewhere("all");
      onChanged?.("all");
      rereadCancels();
    } else if (changes.changed?.length) {
      core.watchers.changedElsewhere(changes.changed);
      onChanged?.(changes.changed);
    }
    if (changes.resync || changes.limits || changes.due?.length) {
      dispatcher.want();
      core.commits.queueFlush();
    }
  };
}
