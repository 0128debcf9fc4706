import { Code, ConnectError } from "@connectrpc/connect";
import { FINAL_STATES, type RunRecord, type Transition } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import { commitRefusal } from "./commit-refusal.js";

const REASON = "cancelled on request";

/**
 * Cancel, wherever the run is: queued, it ends CANCELLED at once; leased through this
 * server, its worker is told now and the attempt ends CANCELLED; leased through another,
 * the request is stored with the lease and that server hears of it from the change feed.
 */
export function createCancelRequests(core: BrokerCore): (runId: string) => Promise<RunRecord> {
  async function cancelRun(runId: string, attempt: number): Promise<RunRecord> {
    const lease = core.table.leases.get(runId);
    if (lease) {
      lease.cancelReason ??= REASON;
      if (lease.session.connected) lease.session.channel.cancel([runId], lease.cancelReason);
      return lease.run;
    }
    const run = await core.watchers.getRun(runId);
    if (FINAL_STATES.has(run.state)) {
      throw new ConnectError(`task run ${runId} is already ${run.state}; only unfinished runs can be cancelled`, Code.FailedPrecondition);
    }
    if (run.state !== "SCHEDULED") return requestCancel(runId, attempt);
    const at = core.now();
    const t: Transition = {
      runId,
      from: ["SCHEDULED"],
      patch: { state: "CANCELLED", endedAt: at },
      events: [{ state: "CANCELLED", at, attempt: run.attempts, message: REASON }],
    };
    // As the commit leaves it, for the caller and the run's watchers: no read back.
    const cancelled: RunRecord = { ...run, ...t.patch };
    const applied = await new Promise<boolean>((resolve, reject) => {
      core.commits.write(
        (batch) => {
          batch.transitions.push(t);
          core.commits.pending.snapshots.set(runId, cancelled);
        },
        (result, batch) => resolve(result.applied[batch.transitions.indexOf(t)]),
        reject,
      );
    });
    if (applied) return cancelled;
    // Not applied: a worker claimed it meanwhile (the lease path handles it now), or its
    // lease had just ended and the result was committed with this write (now final).
    return again(runId, attempt);
  }

  /** Whoever ends the attempt (its result, or an expiry on any server) ends it CANCELLED. */
  async function requestCancel(runId: string, attempt: number): Promise<RunRecord> {
    const { store } = core;
    const leased = await store.requestCancel(runId, REASON).catch((error: unknown) => {
      throw commitRefusal(error, store.location);
    });
    // No longer leased: it finished, or went back to the queue (then it is cancelled there).
    if (!leased) return again(runId, attempt);
    await store.changeFeed.publish(core.serverId, { cancels: [{ runId, reason: leased.cancelReason ?? REASON }] }).catch((error: unknown) => {
      throw new ConnectError(`the cancel of task run ${runId} is stored, but its server could not be told: ${String(error)}`, Code.Unavailable);
    });
    return leased;
  }

  function again(runId: string, attempt: number): Promise<RunRecord> {
    if (attempt < 3) return cancelRun(runId, attempt + 1);
    throw new ConnectError(`task run ${runId} changed state while being cancelled; try again`, Code.Aborted);
  }

  return (runId) => cancelRun(runId, 1);
}
