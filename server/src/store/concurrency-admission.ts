import { type ConcurrencyLimitRecord, limitTags, type RunRecord } from "./store.js";

/**
 * Concurrency limits inside one claim transaction: the counts of leased runs per limited
 * tag, read from the store at the start of the claims, taken as runs are claimed. Both
 * stores use it, so a limit means the same on SQLite and PostgreSQL.
 */
export interface ConcurrencyAdmission {
  /** Takes a slot of every limit the run falls under; false (nothing taken) if one is full. */
  admit(run: RunRecord): boolean;
  /** Tags at their limit now, for the claim to leave their runs out. */
  saturated(): string[];
}

export function createConcurrencyAdmission(limits: (ConcurrencyLimitRecord & { active: number })[]): ConcurrencyAdmission {
  const byTag = new Map(limits.map((l) => [l.tag, { limit: l.limit, active: l.active }]));
  return {
    admit(run) {
      if (byTag.size === 0) return true;
      const counts = limitTags(run).flatMap((tag) => byTag.get(tag) ?? []);
      if (counts.some((c) => c.active >= c.limit)) return false;
      for (const c of counts) c.active++;
      return true;
    },
    saturated() {
      return [...byTag].filter(([, c]) => c.active >= c.limit).map(([tag]) => tag);
    },
  };
}
