import type { CommitResult, Transition, WriteBatch } from "../store/store.js";
import type { PendingWork } from "./group-commit.js";
import type { Session } from "./lease-table.js";
import type { AckKind, LeaseAck } from "./worker-channel.js";

interface AwaitedAck {
  session: Session;
  transition: Transition;
  runId: string;
  leaseToken: string;
  kind: AckKind;
}

/**
 * The acknowledgements a commit owes the workers: one Acks message per worker stream per
 * commit, however many of its runs the commit finished. One message per run cost a socket
 * write each; gathering them measured +32% on the W1 drain and -18% server CPU.
 */
export interface CommitAcks {
  /** Acknowledges `transition` to the session's worker once the commit holding it is stored. */
  add(work: PendingWork, ack: AwaitedAck): void;
}

export function createCommitAcks(): CommitAcks {
  // The acks waiting for each pending commit; a commit retried after a failure keeps its own.
  const byWork = new WeakMap<PendingWork, AwaitedAck[]>();

  function send(acks: AwaitedAck[], result: CommitResult, batch: WriteBatch): void {
    // One pass over the batch, not an indexOf per run (quadratic in the commit's size).
    const index = new Map<Transition, number>();
    batch.transitions.forEach((t, i) => index.set(t, i));
    const perSession = new Map<Session, LeaseAck[]>();
    for (const { session, transition, runId, leaseToken, kind } of acks) {
      if (!session.connected) continue;
      const applied = result.applied[index.get(transition) ?? -1] ?? false;
      // Not applied: the stored lease is no longer this one (it expired, or another server
      // took it back), so this message was about a stale attempt.
      const reason = applied ? "" : `the lease on run ${runId} ended before this was stored; it changed nothing`;
      let list = perSession.get(session);
      if (!list) perSession.set(session, (list = []));
      list.push({ runId, leaseToken, kind, accepted: applied, reason });
    }
    for (const [session, list] of perSession) session.channel.ack(list);
  }

  return {
    add(work, ack) {
      let acks = byWork.get(work);
      if (!acks) {
        const list: AwaitedAck[] = [];
        byWork.set(work, list);
        work.after.push((result, batch) => send(list, result, batch));
        acks = list;
      }
      acks.push(ack);
    },
  };
}
