import type { RunRecord, RunState, StoredError, Transition } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import { createCommitAcks } from "./commit-acks.js";
import type { Lease, Session } from "./lease-table.js";
import { retryDelayMs, shouldRetry } from "./retry-policy.js";
import { cancelledTransition as cancelled, leasedRunTransition, lostTransition as lost, retryTransition } from "./run-transitions.js";
import type { AckKind, LeaseRef } from "./worker-channel.js";

/**
 * How an attempt ends, and what each end writes: a result, a failure (retried or final), a
 * release, a lost lease, a cancel. Every write about a lease is fenced by its attempt and
 * token in the store; the worker hears it acknowledged once committed, or refused when the
 * store says the lease was no longer this one.
 */
export interface AttemptOutcomes {
  /** Queues a transition of a run, with the run as it will be after it (for watchers). */
  writeTransition(run: RunRecord, t: Transition, after?: (applied: boolean) => void): void;
  transition(run: RunRecord, state: RunState, patch: Omit<Transition["patch"], "state">, message?: string): Transition;
  lostTransition(run: RunRecord, reason: string, countsAsRedelivery: boolean): Transition;
  requeue(run: RunRecord, reason: string, countsAsRedelivery: boolean): void;
  /** Moves a lease's deadline on (in memory now, in the store with the next commit). */
  extendLease(lease: Lease, deadline: number): void;
  /** Frees what a lease held: the worker's slot, and maybe room under a limit. */
  endLease(lease: Lease): void;
  /** A lease this server no longer holds in the store: forget it, stop the worker's attempt. */
  dropLease(lease: Lease, reason: string): void;
  /**
   * The worker lost the lease: back to the queue (a redelivery unless `countsAsRedelivery`
   * is false), or CANCELLED if asked.
   */
  loseLease(lease: Lease, reason: string, countsAsRedelivery?: boolean): void;
  failAttempt(lease: Lease, error: StoredError): void;
  completed(lease: Lease, result: NonNullable<RunRecord["result"]>): void;
  released(lease: Lease): void;
  started(lease: Lease): void;
  /** A worker naming a lease it missed the deadline of reads its stream again: it gets work again. */
  namedLeases(session: Session, refs: readonly LeaseRef[]): void;
}

export function createAttemptOutcomes(core: BrokerCore): AttemptOutcomes {
  const { limits, now } = core;
  const acks = createCommitAcks();

  function writeTransition(run: RunRecord, t: Transition, after?: (applied: boolean) => void): void {
    // Fenced: applied only while the run is still on this attempt under this token.
    if (run.leaseToken) t.lease ??= { attempt: run.attempts, token: run.leaseToken };
    core.commits.write(
      (batch) => batch.transitions.push(t),
      after && ((result, batch) => after(result.applied[batch.transitions.indexOf(t)] ?? false)),
    );
    core.commits.pending.snapshots.set(run.id, { ...run, ...t.patch });
  }

  function transition(run: RunRecord, state: RunState, patch: Omit<Transition["patch"], "state">, message = ""): Transition {
    return leasedRunTransition(run, state, patch, now(), message);
  }

  function cancelledTransition(lease: Lease, error?: StoredError): Transition {
    return cancelled(lease.run, lease.cancelReason ?? "cancelled", now(), error);
  }

  function lostTransition(run: RunRecord, reason: string, countsAsRedelivery: boolean): Transition {
    return lost(run, reason, countsAsRedelivery, now(), limits.defaultMaxRedeliveries);
  }

  function endLease(lease: Lease): void {
    core.table.leases.delete(lease.run.id);
    lease.session.held.delete(lease.run.id);
    core.dispatcher.leaseEnded(lease);
  }

  /**
   * Ends a lease. The slot frees at once: a claim for it lands in the same commit as this
   * write, and its assignment is sent after this write's ack, so the worker never holds more
   * than its limit, and one commit (one fsync) serves both.
   */
  function finishLease(lease: Lease, transition: Transition, kind: AckKind): void {
    endLease(lease);
    const { session } = lease;
    const { pending } = core.commits;
    const start = pending.started.get(lease.run.id);
    if (start) {
      // Started and finished within one batch: one UPDATE instead of two.
      pending.started.delete(lease.run.id);
      transition.patch = { ...start.patch, ...transition.patch };
      transition.events = [...start.events, ...transition.events];
    }
    writeTransition(lease.run, transition);
    acks.add(pending, { session, transition, runId: lease.run.id, leaseToken: lease.token, kind });
  }

  function failAttempt(lease: Lease, error: StoredError): void {
    const { run } = lease;
    if (lease.cancelReason) return finishLease(lease, cancelledTransition(lease, error), "FAILED");
    if (shouldRetry(run.options, run.retriesUsed, error.retryable)) {
      const delay = retryDelayMs(run.options, run.retriesUsed);
      // The wake-up timer is set once the retry is committed (see the broker's commit hook).
      finishLease(lease, retryTransition(run, error, now(), delay), "FAILED");
      if (delay === 0) core.dispatcher.markKeyReady(run.taskKey);
      return;
    }
    const t = transition(run, "FAILED", { endedAt: now(), error }, `${error.type}: ${error.message}`);
    finishLease(lease, t, "FAILED");
  }

  return {
    writeTransition,
    transition,
    lostTransition,
    endLease,
    failAttempt,
    requeue(run, reason, countsAsRedelivery) {
      writeTransition(run, lostTransition(run, reason, countsAsRedelivery));
      core.dispatcher.markKeyReady(run.taskKey);
    },
    /**
     * A heartbeat naming a lease extends it; it also shows the worker has the assignment, so
     * the ack window stops applying (its Started may be stuck behind a task that blocks the
     * worker's event loop, while the heartbeat comes from another thread).
     */
    extendLease(lease, deadline) {
      lease.deadline = Math.max(lease.deadline, deadline);
      const { heartbeats } = core.commits.pending;
      let beat = heartbeats.get(lease.session);
      if (!beat) {
        beat = { tokens: new Set(), deadline };
        heartbeats.set(lease.session, beat);
      }
      beat.tokens.add(lease.token);
      beat.deadline = Math.max(beat.deadline, deadline);
      core.commits.queueFlush();
    },
    dropLease(lease, reason) {
      endLease(lease);
      core.commits.pending.started.delete(lease.run.id);
      if (lease.session.connected) lease.session.channel.cancel([lease.run.id], reason);
    },
    loseLease(lease, reason, countsAsRedelivery = true) {
      endLease(lease);
      const { session } = lease;
      const t = lease.cancelReason ? cancelledTransition(lease) : lostTransition(lease.run, reason, countsAsRedelivery);
      core.commits.pending.started.delete(lease.run.id);
      writeTransition(lease.run, t);
      core.dispatcher.markKeyReady(lease.run.taskKey);
      if (session.connected) session.channel.cancel([lease.run.id], reason);
    },
    completed(lease, result) {
      if (result.data.byteLength > limits.maxPayloadBytes) {
        failAttempt(lease, {
          type: "PayloadTooLarge",
          message: `the result is ${result.data.byteLength} bytes, over the limit of ${limits.maxPayloadBytes}`,
          stack: "",
          retryable: false,
        });
        return;
      }
      const t = lease.cancelReason ? cancelledTransition(lease) : transition(lease.run, "COMPLETED", { endedAt: now(), result });
      finishLease(lease, t, "COMPLETED");
    },
    released(lease) {
      const t = lease.cancelReason
        ? cancelledTransition(lease)
        : lostTransition(lease.run, `released by worker ${lease.session.workerId}`, false);
      finishLease(lease, t, "RELEASED");
      core.dispatcher.markKeyReady(lease.run.taskKey);
    },
    started(lease) {
      if (lease.running) return;
      lease.running = true;
      const at = now();
      if (lease.run.options.timeoutSeconds > 0) {
        // A second of grace for the worker to abort on its own and report the timeout.
        lease.timeoutAt = at + lease.run.options.timeoutSeconds * 1000 + 1000;
        core.expiry.noLaterThan(lease.timeoutAt);
      }
      // On the held run itself, not only on this snapshot: the run's later snapshots (its
      // result, published to watchers) are built from it once the RUNNING write is out.
      lease.run.state = "RUNNING";
      lease.run.startedAt = at;
      lease.deadline = Math.max(lease.deadline, at + limits.leaseDurationMs);
      const patch = { startedAt: at, leaseDeadline: lease.deadline, ...(lease.timeoutAt ? { timeoutAt: lease.timeoutAt } : {}) };
      const t = transition(lease.run, "RUNNING", patch);
      t.from = ["PENDING"];
      t.lease = { attempt: lease.run.attempts, token: lease.token };
      core.commits.pending.started.set(lease.run.id, t);
      core.commits.pending.snapshots.set(lease.run.id, { ...lease.run });
      core.commits.queueFlush();
    },
    namedLeases(session, refs) {
      if (session.missedLeases.size === 0 || !refs.some((ref) => session.missedLeases.has(ref.leaseToken))) return;
      session.missedLeases.clear();
      core.dispatcher.want();
      core.commits.queueFlush();
    },
  };
}
