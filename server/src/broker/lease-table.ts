import type { RunRecord } from "../store/store.js";
import type { AckKind, LeaseRef, WorkerChannel, WorkerSession } from "./worker-channel.js";

/**
 * What this server holds in memory about its own worker streams and the leases granted to
 * them. The store holds every lease as a row (the truth, on every server); this table is
 * the view of the server whose stream carries them: who to send Cancel to, whose slots are
 * taken, when its own next deadline is.
 */
export interface Session extends WorkerSession {
  channel: WorkerChannel;
  /** Runs counted against the limit: the ones leased to it. */
  held: Set<string>;
  draining: boolean;
  connected: boolean;
  /**
   * Tokens of its leases taken back at a missed deadline (no Started within the ack window,
   * no heartbeat within the lease). While there are any it gets no new work: it may not be
   * reading its stream. A message naming one of them shows it read that assignment after
   * all; a heartbeat naming an older lease does not (it may come from another thread).
   */
  missedLeases: Set<string>;
}

export interface Lease {
  run: RunRecord;
  token: string;
  session: Session;
  running: boolean;
  /** As stored: the ack window until Started, then the lease, moved on by heartbeats. */
  deadline: number;
  timeoutAt?: number;
  cancelReason?: string;
}

export interface LeaseTable {
  readonly sessions: Map<string, Session>;
  readonly leases: Map<string, Lease>;
  /** The lease a worker message refers to; answers the worker a refusal when it is stale. */
  leaseFor(session: Session, ref: LeaseRef, kind: AckKind): Lease | undefined;
  /** The earliest deadline or timeout of the leases held (Infinity for none). */
  nextDeadline(): number;
}

export function createLeaseTable(): LeaseTable {
  const sessions = new Map<string, Session>();
  const leases = new Map<string, Lease>();
  return {
    sessions,
    leases,
    leaseFor(session, ref, kind) {
      const lease = leases.get(ref.runId);
      if (lease && lease.token === ref.leaseToken && lease.session === session) return lease;
      const reason = lease
        ? `stale lease token for run ${ref.runId}: the run is held under another lease now`
        : `run ${ref.runId} is not leased to this worker (it finished, was redelivered, or does not exist)`;
      session.channel.ack([{ runId: ref.runId, leaseToken: ref.leaseToken, kind, accepted: false, reason }]);
      return undefined;
    },
    nextDeadline() {
      let next = Number.POSITIVE_INFINITY;
      for (const lease of leases.values()) next = Math.min(next, lease.deadline, lease.timeoutAt ?? next);
      return next;
    },
  };
}
