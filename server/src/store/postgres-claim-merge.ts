import type { ClaimRequest, RunRecord } from "./store.js";

/**
 * Consecutive claim requests of one worker stream for the same task keys, merged into one
 * request for all their runs. The dispatcher plans a worker's free slots in rounds of 1, 2,
 * 4, 8 … (claim-plan.ts), so a worker of limit 50 with a backlog asked six times per commit:
 * six claim statements of 1-2 ms each, most of a drain commit's time on PostgreSQL. Merged,
 * the runs come back in the same dispatch order and are dealt to the requests in turn, each
 * up to its `max` and through its own `admit`, as six statements in a row would have.
 */
export interface MergedClaim {
  request: ClaimRequest;
  /** Indices of the requests merged, in order. */
  members: number[];
  /** The runs claimed for each member, from the merged request's result. */
  split(runs: readonly RunRecord[]): RunRecord[][];
}

export function mergeClaimRequests(requests: readonly ClaimRequest[]): MergedClaim[] {
  const merged: MergedClaim[] = [];
  let start = 0;
  while (start < requests.length) {
    let end = start + 1;
    while (end < requests.length && sameClaimer(requests[start], requests[end])) end++;
    merged.push(mergeRun(requests, start, end));
    start = end;
  }
  return merged;
}

function mergeRun(requests: readonly ClaimRequest[], start: number, end: number): MergedClaim {
  const members = Array.from({ length: end - start }, (_, i) => start + i);
  if (members.length === 1) return { request: requests[start], members, split: (runs) => [[...runs]] };
  const parts = members.map((i) => requests[i]);
  const left = parts.map((part) => part.max);
  const owner = new Map<string, number>();
  let turn = 0;
  // Runs are offered in dispatch order: each goes to the first request with a slot left.
  const admit = (run: RunRecord): boolean => {
    while (turn < parts.length && left[turn] <= 0) turn++;
    if (turn === parts.length) return false;
    if (parts[turn].admit && !parts[turn].admit!(run)) return false;
    owner.set(run.id, turn);
    left[turn]--;
    return true;
  };
  const max = parts.reduce((sum, part) => sum + part.max, 0);
  return {
    request: { ...parts[0], max, admit },
    members,
    split: (runs) => parts.map((_, m) => runs.filter((run) => owner.get(run.id) === m)),
  };
}

function sameClaimer(a: ClaimRequest, b: ClaimRequest): boolean {
  return (
    a.workerId === b.workerId &&
    a.sessionId === b.sessionId &&
    a.serverId === b.serverId &&
    a.now === b.now &&
    a.leaseDeadline === b.leaseDeadline &&
    sameSet(a.taskKeys, b.taskKeys) &&
    sameSet(a.excludeTags ?? [], b.excludeTags ?? [])
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((item) => set.has(item));
}
