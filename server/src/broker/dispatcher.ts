import { type CommitResult, limitTags, type RunRecord } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import { planClaims } from "./claim-plan.js";
import { createDispatchBudget, DISPATCH_BYTES_PER_WORKER, MAX_RUNS_PER_DISPATCH, MAX_UNSENT_BYTES_FOR_DISPATCH } from "./dispatch-budget.js";
import type { PendingWork } from "./group-commit.js";
import type { Lease, Session } from "./lease-table.js";
import type { LeasedRun } from "./worker-channel.js";

/**
 * A run back from a worker within this of being sent makes the worker quick: it gets a
 * reserve. Beyond, the reserve would keep runs waiting behind its tasks that another
 * worker could take; 250 ms of waiting at most per run is the price of the reserve.
 */
export const RESERVE_TURNAROUND_MS = 250;

/** Parameters held in one worker's reserve at most (64 runs of 16 KiB). */
const MAX_RESERVE_BYTES = 1024 * 1024;

/**
 * Hands runs to workers: at each commit it plans claims for the streams with free slots
 * (fair turns, see claim-plan.ts), and once the claims are committed turns them into
 * leases and Assignments. Task keys found dry are skipped until something makes them due.
 *
 * A quick worker (see RESERVE_TURNAROUND_MS) also gets a reserve: up to its limit (64 at
 * most) more runs claimed for it, not sent. A result that frees a slot sends one of them at
 * once, while the result is being committed; the claim that refills the reserve travels in
 * that commit. Without it a worker of limit 50 got its next runs only from the commit of its
 * last results, and the server and the worker took turns: the server idled a third of the
 * W1 drain. The worker still never holds more than its limit.
 */
export interface Dispatcher {
  /** Task keys known to have no due run; claims skip them until something is scheduled. */
  readonly idleKeys: Set<string>;
  /** Tags that have a concurrency limit (the store enforces them; see leaseEnded). */
  readonly limitedTags: Set<string>;
  /** Whether the next commit is to claim. */
  readonly wanted: boolean;
  /** Claims at the next commit. */
  want(): void;
  /** Claims at the next commit, for every key again. */
  wakeAll(): void;
  /** Runs of this key are due: the next commit claims for it (and tells the other servers). */
  markKeyReady(taskKey: string): void;
  /** A lease ended: a limit it counted against may have room, a slot of its worker is free. */
  leaseEnded(lease: Lease): void;
  /** Sends the worker runs from its reserve for its free slots, at the end of this turn. */
  fillSlots(session: Session): void;
  /** The group-commit hook: adds the claims; once committed, grants and sends them. */
  prepare(work: PendingWork): (result: CommitResult) => void;
}

export function createDispatcher(core: BrokerCore, limitedTags: Iterable<string>): Dispatcher {
  const idleKeys = new Set<string>();
  const tags = new Set(limitedTags);
  let keysTouchedDuringCommit = new Set<string>();
  let wanted = true;
  let rotation = 0;

  const filling = new Set<Session>();

  /** Runs to claim for a worker: its free slots, and what its reserve lacks. */
  function room(s: Session): number {
    let reserve = s.quick ? Math.min(s.limit, MAX_RUNS_PER_DISPATCH) : 0;
    if (reserve > 0) {
      // A reserve is for short runs with small parameters: the server holds it in memory.
      let bytes = 0;
      for (const lease of s.reserve) bytes += lease.run.parameters.data.byteLength;
      if (bytes >= MAX_RESERVE_BYTES) reserve = s.reserve.length;
    }
    return s.limit - s.held.size + reserve - s.reserve.length;
  }

  /** Moves runs from the reserve into the worker's free slots: one Assignments message. */
  function sendReserved(session: Session): void {
    if (!session.connected || session.draining) return;
    const count = Math.min(session.reserve.length, session.limit - session.held.size);
    if (count <= 0) return;
    const at = core.now();
    const sent: LeasedRun[] = [];
    for (const lease of session.reserve.splice(0, count)) {
      lease.sent = true;
      lease.sentAt = at;
      session.held.add(lease.run.id);
      // Waited long in the reserve: the ack window starts again, in the store too.
      if (lease.deadline < at + core.limits.ackTimeoutMs / 2) core.outcomes.extendLease(lease, at + core.limits.ackTimeoutMs);
      // The worker is told the lease it gets once started; the ack window is the server's.
      sent.push({ run: lease.run, leaseToken: lease.token, leaseDeadline: at + core.limits.leaseDurationMs });
    }
    session.channel.assign(sent);
  }

  function planDispatch() {
    // A worker with much unsent on its stream is not reading it: more would only pile up.
    const open = [...core.table.sessions.values()].filter(
      (s) => s.connected && !s.draining && s.missedLeases.size === 0 && room(s) > 0 && s.channel.unsentBytes <= MAX_UNSENT_BYTES_FOR_DISPATCH,
    );
    if (open.length === 0) return [];
    rotation = (rotation + 1) % open.length;
    const rotated = [...open.slice(rotation), ...open.slice(0, rotation)].map((session) => ({
      session,
      workerId: session.workerId,
      taskKeys: rotate(session.taskKeys, rotation),
      freeSlots: Math.min(room(session), MAX_RUNS_PER_DISPATCH),
    }));
    const at = core.now();
    return planClaims(rotated, (key) => !idleKeys.has(key), at).map((claim) => ({
      owner: claim.owner.session,
      request: {
        ...claim.request,
        serverId: core.serverId,
        sessionId: claim.owner.session.sessionId,
        leaseDeadline: at + core.limits.ackTimeoutMs,
      },
    }));
  }

  function grantLeases(session: Session, taskKeys: string[], max: number, runs: RunRecord[], limited: boolean): number {
    // Short means the keys ran dry, unless a concurrency limit turned runs away: then other
    // runs of the same keys may be waiting behind them.
    if (runs.length < max && !limited) {
      for (const key of taskKeys) if (!keysTouchedDuringCommit.has(key)) idleKeys.add(key);
    }
    if (runs.length === 0) return 0;
    if (!session.connected || session.draining) {
      // The worker left, or it (or this server) began to drain, while its claim was being
      // committed: put the runs back, without counting a redelivery. A draining worker is
      // sent no new run: it would close its stream before running it.
      const why = session.connected ? "the worker began to drain" : "the worker disconnected";
      for (const run of runs) core.outcomes.requeue(run, `${why} before its assignment was sent`, false);
      return 0;
    }
    const at = core.now();
    for (const run of runs) {
      const lease: Lease = {
        run,
        // Written by the claim: the store's token is the one every later write is fenced by.
        token: run.leaseToken ?? "",
        session,
        sent: false,
        sentAt: 0,
        running: false,
        deadline: run.leaseDeadline ?? at + core.limits.ackTimeoutMs,
      };
      core.table.leases.set(run.id, lease);
      session.reserve.push(lease);
    }
    core.expiry.noLaterThan(at + core.limits.ackTimeoutMs);
    return runs.length;
  }

  return {
    idleKeys,
    limitedTags: tags,
    get wanted() {
      return wanted;
    },
    want() {
      wanted = true;
    },
    wakeAll() {
      idleKeys.clear();
      wanted = true;
    },
    markKeyReady(taskKey) {
      idleKeys.delete(taskKey);
      keysTouchedDuringCommit.add(taskKey);
      wanted = true;
      core.commits.pending.dueKeys.add(taskKey);
    },
    leaseEnded(lease) {
      wanted = true;
      const { session } = lease;
      if (lease.sent) session.quick = core.now() - lease.sentAt <= RESERVE_TURNAROUND_MS;
      // A limit that was full has room: its queued runs may have been skipped as idle.
      if (tags.size > 0 && limitTags(lease.run).some((tag) => tags.has(tag))) {
        idleKeys.clear();
        core.commits.pending.limitsFreed = true;
      }
    },
    fillSlots(session) {
      if (filling.has(session)) return;
      filling.add(session);
      // Once per turn: the results of one message free their slots together, and the runs
      // that fill them leave as one Assignments message.
      queueMicrotask(() => {
        filling.delete(session);
        sendReserved(session);
      });
    },
    prepare(work) {
      const plan = wanted && !core.closing ? planDispatch() : [];
      wanted = false;
      const budget = createDispatchBudget(DISPATCH_BYTES_PER_WORKER);
      // Concurrency limits are counted and enforced by the store, inside the claim.
      for (const claim of plan) {
        claim.request.admit = (run) => budget.admit(claim.owner, run);
        work.batch.claims.push(claim.request);
      }
      keysTouchedDuringCommit = new Set();
      return (result) => {
        // One Assignments message per worker per commit, however many claims filled it: the
        // worker then answers with one Started and one Completed message, not one per claim.
        const granted = new Map<Session, number>();
        plan.forEach((claim, i) => {
          const limited = result.limited[i] || budget.exhausted(claim.owner);
          const leased = grantLeases(claim.owner, claim.request.taskKeys, claim.request.max, result.claimed[i], limited);
          if (leased > 0) granted.set(claim.owner, (granted.get(claim.owner) ?? 0) + leased);
        });
        for (const [session, count] of granted) {
          sendReserved(session);
          // Filled to the per-dispatch cap with room to spare: the next commit gives more. (A
          // worker that used up its byte budget gets more once its stream is writable again.)
          const capped = count >= MAX_RUNS_PER_DISPATCH && !budget.exhausted(session);
          if (capped && room(session) > 0) wanted = true;
        }
      };
    },
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length < 2) return [...items];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
