import { TaskRunState } from "@taskwire/proto";
import { UsageError } from "./cli-error.js";
import { taskRunStateName } from "./task-run-table.js";

/** The states a user can name, as `ls` shows them. */
export const stateNames = Object.values(TaskRunState)
  .filter((state): state is TaskRunState => typeof state === "number" && state !== TaskRunState.UNSPECIFIED)
  .map((state) => taskRunStateName(state));

/** "failed", "FAILED" or "TASK_RUN_STATE_FAILED" as a state; a UsageError names the valid ones. */
export function parseStates(names: readonly string[], command: string, usage: string): TaskRunState[] {
  return names.map((name) => {
    const state = TaskRunState[name.toUpperCase().replace(/^TASK_RUN_STATE_/, "") as keyof typeof TaskRunState];
    if (typeof state !== "number" || state === TaskRunState.UNSPECIFIED) {
      throw new UsageError(`taskwire ${command}: unknown state '${name}'; states are ${stateNames.join(", ")}`, usage);
    }
    return state;
  });
}

const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: a time ago ("90s", "30m", "2h", "7d", "1w") or an ISO 8601 time
 * ("2026-11-29T12:00:00Z"), as milliseconds since the epoch.
 */
export function parseSince(text: string, now: number, command: string, usage: string): number {
  const ago = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (ago) return now - Number(ago[1]) * units[ago[2]];
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `taskwire ${command}: --since must be a time ago like 30m, 2h or 7d, or an ISO time like 2026-11-29T12:00:00Z; got '${text}'`,
      usage,
    );
  }
  return time;
}

/** `--limit N`: a whole number >= 1. */
export function parseLimit(text: string, command: string, usage: string): number {
  const limit = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new UsageError(`taskwire ${command}: --limit must be a whole number >= 1, got '${text}'`, usage);
  }
  return limit;
}
