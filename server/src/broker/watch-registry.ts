import { FINAL_STATES, type RunRecord } from "../store/store.js";

export interface Watcher {
  /** Only final states are delivered. */
  readonly finalOnly: boolean;
  deliver(runs: RunRecord[]): void;
}

export interface WatchRegistry {
  add(watcher: Watcher, runIds: readonly string[]): void;
  remove(watcher: Watcher, runIds?: readonly string[]): void;
  /** Every run id somebody watches. */
  all(): string[];
  /** Of these run ids, the ones somebody watches. */
  watched(runIds: Iterable<string>): string[];
  /** Hands each changed run to the watchers that asked for it. */
  publish(runs: readonly RunRecord[]): void;
}

/** Who waits for which run: one entry per (run, watcher), dropped once the run is final. */
export function createWatchRegistry(): WatchRegistry {
  const byRun = new Map<string, Set<Watcher>>();
  const byWatcher = new Map<Watcher, Set<string>>();

  function unlink(watcher: Watcher, runId: string): void {
    const watchers = byRun.get(runId);
    watchers?.delete(watcher);
    if (watchers?.size === 0) byRun.delete(runId);
    byWatcher.get(watcher)?.delete(runId);
  }

  return {
    add(watcher, runIds) {
      let ids = byWatcher.get(watcher);
      if (!ids) byWatcher.set(watcher, (ids = new Set()));
      for (const runId of runIds) {
        ids.add(runId);
        let watchers = byRun.get(runId);
        if (!watchers) byRun.set(runId, (watchers = new Set()));
        watchers.add(watcher);
      }
    },
    remove(watcher, runIds) {
      for (const runId of runIds ?? [...(byWatcher.get(watcher) ?? [])]) unlink(watcher, runId);
      if (!runIds) byWatcher.delete(watcher);
    },
    all() {
      return [...byRun.keys()];
    },
    watched(runIds) {
      const ids: string[] = [];
      for (const runId of runIds) if (byRun.has(runId)) ids.push(runId);
      return ids;
    },
    publish(runs) {
      const batches = new Map<Watcher, RunRecord[]>();
      for (const run of runs) {
        const final = FINAL_STATES.has(run.state);
        for (const watcher of byRun.get(run.id) ?? []) {
          if (watcher.finalOnly && !final) continue;
          let batch = batches.get(watcher);
          if (!batch) batches.set(watcher, (batch = []));
          batch.push(run);
          if (final) unlink(watcher, run.id);
        }
      }
      for (const [watcher, batch] of batches) watcher.deliver(batch);
    },
  };
}
