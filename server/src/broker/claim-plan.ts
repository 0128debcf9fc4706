import type { ClaimRequest } from "../store/store.js";

export interface ClaimCandidate {
  workerId: string;
  taskKeys: readonly string[];
  freeSlots: number;
}

export interface PlannedClaim<T extends ClaimCandidate> {
  owner: T;
  request: ClaimRequest;
}

/**
 * Orders claims so that work spreads across workers: each round gives every worker with
 * free slots up to 1, then 2, 4, 8 … runs. Three runs and two idle workers end up 2 + 1,
 * not 3 + 0; a deep backlog still fills a worker of limit 50 in six rounds. The store stops
 * querying a key as soon as one request came back short, so later rounds cost nothing
 * once the queue is empty.
 */
export function planClaims<T extends ClaimCandidate>(
  candidates: readonly T[],
  isKeyReady: (taskKey: string) => boolean,
  now: number,
): PlannedClaim<T>[] {
  const free = candidates.map((candidate) => candidate.freeSlots);
  const keys = candidates.map((candidate) => candidate.taskKeys.filter(isKeyReady));
  const given = candidates.map(() => 0);
  const plan: PlannedClaim<T>[] = [];
  for (let size = 1; ; size *= 2) {
    let planned = false;
    candidates.forEach((owner, i) => {
      const max = Math.min(size, free[i]);
      const n = keys[i].length;
      if (max <= 0 || n === 0) return;
      free[i] -= max;
      // Each request starts at the key after the last one the previous request ended on,
      // so a worker's keys take turns across rounds too.
      const start = given[i] % n;
      given[i] += max;
      const taskKeys = [...keys[i].slice(start), ...keys[i].slice(0, start)];
      plan.push({ owner, request: { taskKeys, max, workerId: owner.workerId, now } });
      planned = true;
    });
    if (!planned) return plan;
  }
}
