import type { ConcurrencyLimitRecord, RunRecord } from "../store/store.js";

export interface ConcurrencyLimits {
  set(limit: ConcurrencyLimitRecord, activeRuns: Iterable<RunRecord>): void;
  delete(tag: string): void;
  list(): (ConcurrencyLimitRecord & { active: number })[];
  /** Tags whose runs must stay queued now. */
  saturated(): string[];
  /** Takes a slot of every limit the run falls under; false (and nothing taken) if one is full. */
  admit(run: RunRecord): boolean;
  /** Gives the run's slots back; true when a full limit got room, so queued runs may go. */
  release(run: RunRecord): boolean;
}

/** The limits a run falls under: its tags, and "task_key:<key>" for its task key. */
function limitTags(run: RunRecord): string[] {
  return [...run.options.tags, `task_key:${run.taskKey}`];
}

/**
 * Tag concurrency limits, as Prefect users know them, enforced by the server across all
 * workers. Counts live in memory: only leased runs count, and leases do not survive a
 * restart (their runs are re-queued), so there is nothing to recover.
 */
export function createConcurrencyLimits(initial: ConcurrencyLimitRecord[]): ConcurrencyLimits {
  const limits = new Map(initial.map((l) => [l.tag, l.limit]));
  const active = new Map<string, number>();

  const limited = (run: RunRecord) => (limits.size === 0 ? [] : limitTags(run).filter((tag) => limits.has(tag)));

  return {
    set({ tag, limit }, activeRuns) {
      limits.set(tag, limit);
      let count = 0;
      for (const run of activeRuns) if (limitTags(run).includes(tag)) count++;
      active.set(tag, count);
    },
    delete(tag) {
      limits.delete(tag);
      active.delete(tag);
    },
    list() {
      return [...limits].map(([tag, limit]) => ({ tag, limit, active: active.get(tag) ?? 0 }));
    },
    saturated() {
      return [...limits].filter(([tag, limit]) => (active.get(tag) ?? 0) >= limit).map(([tag]) => tag);
    },
    admit(run) {
      const tags = limited(run);
      if (tags.some((tag) => (active.get(tag) ?? 0) >= (limits.get(tag) ?? 0))) return false;
      for (const tag of tags) active.set(tag, (active.get(tag) ?? 0) + 1);
      return true;
    },
    release(run) {
      let freed = false;
      for (const tag of limited(run)) {
        const count = active.get(tag) ?? 0;
        if (count >= (limits.get(tag) ?? 0)) freed = true;
        active.set(tag, Math.max(0, count - 1));
      }
      return freed;
    },
  };
}
