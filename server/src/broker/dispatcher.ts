import { type CommitResult, limitTags, type RunRecord } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import { planClaims } from "./claim-plan.js";
import { createDispatchBudget, DISPATCH_BYTES_PER_WORKER, MAX_RUNS_PER_DISPATCH, MAX_UNSENT_BYTES_FOR_DISPATCH } from "./dispatch-budget.js";
import type { PendingWork } from "./group-commit.js";
import type { Lease, Session } from "./lease-table.js";
import type { LeasedRun } from "./worker-channel.js";

/**
 * Hands runs to workers: at each commit it plans claims for the streams with free slots
 * (fair turns, see claim-plan.ts), and once the claims are committed turns them into
 * leases and Assignments. Task keys found dry are skipped until something makes them due.
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
  /** Another server made runs of this key due: no need to tell the others again. */
  keyDue(taskKey: string): void;
  /** A lease ended: a limit it counted against may have room. */
  leaseEnded(lease: Lease): void;
  /** The group-commit hook: adds the claims; once committed, grants and sends them. */
  prepare(work: PendingWork): (result: CommitResult) => void;
}

export function createDispatcher(core: BrokerCore, limitedTags: Iterable<string>): Dispatcher {
  const idleKeys = new Set<string>();
  const tags = new Set(limitedTags);
  // Keys found due (here or by another server) while a claim was being committed: a claim
  // that came back short must not mark them idle, it looked before they were due.
  let keysTouchedDuringCommit = new Set<string>();
  let allTouchedDuringCommit = false;
  let wanted = true;
  let rotation = 0;

  function planDispatch() {
    // A worker with much unsent on its stream is not reading it: more would only pile up.
    const open = [...core.table.sessions.values()].filter(
      (s) => s.connected && !s.draining && s.missedLeases.size === 0 && s.held.size < s.limit && s.channel.unsentBytes <= MAX_UNSENT_BYTES_FOR_DISPATCH,
    );
    if (open.length === 0) return [];
    rotation = (rotation + 1) % open.length;
    const rotated = [...open.slice(rotation), ...open.slice(0, rotation)].map((session) => ({
      session,
      workerId: session.workerId,
      taskKeys: rotate(session.taskKeys, rotation),
      freeSlots: Math.min(session.limit - session.held.size, MAX_RUNS_PER_DISPATCH),
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

  function keyDue(taskKey: string): void {
    idleKeys.delete(taskKey);
    keysTouchedDuringCommit.add(taskKey);
    wanted = true;
  }

  function grantLeases(session: Session, taskKeys: string[], max: number, runs: RunRecord[], limited: boolean): LeasedRun[] {
    // Short means the keys ran dry, unless a concurrency limit turned runs away: then other
    // runs of the same keys may be waiting behind them.
    if (runs.length < max && !limited && !allTouchedDuringCommit) {
      for (const key of taskKeys) if (!keysTouchedDuringCommit.has(key)) idleKeys.add(key);
    }
    if (runs.length === 0) return [];
    if (!session.connected || session.draining) {
      // The worker left, or it (or this server) began to drain, while its claim was being
      // committed: put the runs back, without counting a redelivery. A draining worker is
      // sent no new run: it would close its stream before running it.
      const why = session.connected ? "the worker began to drain" : "the worker disconnected";
      for (const run of runs) core.outcomes.requeue(run, `${why} before its assignment was sent`, false);
      return [];
    }
    const at = core.now();
    const granted: LeasedRun[] = runs.map((run) => {
      const lease: Lease = {
        run,
        // Written by the claim: the store's token is the one every later write is fenced by.
        token: run.leaseToken ?? "",
        session,
        running: false,
        deadline: run.leaseDeadline ?? at + core.limits.ackTimeoutMs,
      };
      core.table.leases.set(run.id, lease);
      session.held.add(run.id);
      // The worker is told the lease it gets once started; the ack window is the server's.
      return { run, leaseToken: lease.token, leaseDeadline: at + core.limits.leaseDurationMs };
    });
    core.expiry.noLaterThan(at + core.limits.ackTimeoutMs);
    return granted;
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
      allTouchedDuringCommit = true;
      wanted = true;
    },
    keyDue,
    markKeyReady(taskKey) {
      keyDue(taskKey);
      core.commits.pending.dueKeys.add(taskKey);
    },
    leaseEnded(lease) {
      wanted = true;
      // A limit that was full has room: its queued runs may have been skipped as idle.
      if (tags.size > 0 && limitTags(lease.run).some((tag) => tags.has(tag))) {
        idleKeys.clear();
        allTouchedDuringCommit = true;
        core.commits.pending.limitsFreed = true;
      }
    },
    prepare(work) {
      const plan = wanted && !core.closing ? planDispatch() : [];
      wanted = false;
      const budget = createDispatchBudget(DISPATCH_BYTES_PER_WORKER);
      // Keys the store looked at and found with nothing due, even in a claim that came back
      // full: left out of claims until runs are due, so a claim does not pass over them again.
      const noneDue: string[] = [];
      // Concurrency limits are counted and enforced by the store, inside the claim.
      for (const claim of plan) {
        claim.request.admit = (run) => budget.admit(claim.owner, run);
        claim.request.noneDue = (keys) => noneDue.push(...keys);
        work.batch.claims.push(claim.request);
      }
      keysTouchedDuringCommit = new Set();
      allTouchedDuringCommit = false;
      return (result) => {
        if (!allTouchedDuringCommit) for (const key of noneDue) if (!keysTouchedDuringCommit.has(key)) idleKeys.add(key);
        // One Assignments message per worker per commit, however many claims filled it: the
        // worker then answers with one Started and one Completed message, not one per claim.
        const granted = new Map<Session, LeasedRun[]>();
        plan.forEach((claim, i) => {
          const limited = result.limited[i] || budget.exhausted(claim.owner);
          const leased = grantLeases(claim.owner, claim.request.taskKeys, claim.request.max, result.claimed[i], limited);
          if (leased.length > 0) granted.set(claim.owner, [...(granted.get(claim.owner) ?? []), ...leased]);
        });
        for (const [session, runs] of granted) {
          session.channel.assign(runs);
          // Filled to the per-dispatch cap with slots to spare: the next commit gives more. (A
          // worker that used up its byte budget gets more once its stream is writable again.)
          const capped = runs.length >= MAX_RUNS_PER_DISPATCH && !budget.exhausted(session);
          if (capped && session.held.size < session.limit) wanted = true;
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
