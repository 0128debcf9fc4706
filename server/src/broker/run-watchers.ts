import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { type CommitResult, FINAL_STATES, type RunRecord, type Store } from "../store/store.js";
import type { PendingWork } from "./group-commit.js";
import { createWatchRegistry, type Watcher } from "./watch-registry.js";

/**
 * Tells whoever waits for runs (futures, watch streams) of their changes: those committed
 * through this server, from the runs as the commit left them, and those committed through
 * another server (heard from the change feed), read back from the store.
 */
export interface RunWatchers {
  watch(watcher: Watcher, runIds: string[]): Promise<string[]>;
  unwatch(watcher: Watcher, runIds?: string[]): void;
  /** Resolves with the run once final, or as it is when the timeout passes. */
  waitForFinal(runId: string, timeoutMs: number): Promise<RunRecord>;
  /** After a commit of this server. */
  committed(work: PendingWork, result: CommitResult): Promise<void>;
  /** These runs changed on another server (every watched run, with `all`). */
  changedElsewhere(runIds: readonly string[] | "all"): void;
  getRun(runId: string): Promise<RunRecord>;
  close(): void;
}

export interface RunWatchersOptions {
  store: Store;
  logger: Logger;
  /**
   * Whether this server holds the run's lease now: then the run exists and is not final,
   * and its end is committed through this server (or, should another server take the
   * lease, heard from the change feed), after a watch added now.
   */
  leased?: (runId: string) => boolean;
}

export function createRunWatchers(options: RunWatchersOptions): RunWatchers {
  const { store, logger, leased } = options;
  const watches = createWatchRegistry();
  /** Changed runs whose watchers were not told yet: reading them back failed. */
  const unpublished = new Set<string>();
  let republishTimer: NodeJS.Timeout | undefined;
  let closed = false;

  /**
   * Reading changed runs for their watchers failed (SQLITE_BUSY outlasted the store's 5 s
   * busy timeout, say): the change is committed, so the watchers get it from a read 1 s
   * later, again until one succeeds; at most one log line a second while it lasts.
   */
  function republishLater(runIds: readonly string[], error: unknown): void {
    if (closed) return;
    for (const id of runIds) unpublished.add(id);
    logger.error({ err: error, runs: unpublished.size }, "could not read changed runs for their watchers; trying again in 1 s");
    republishTimer ??= setTimeout(republish, 1_000);
    republishTimer.unref();
  }

  function republish(): void {
    republishTimer = undefined;
    const ids = watches.watched(unpublished);
    unpublished.clear();
    readAndPublish(ids);
  }

  function readAndPublish(ids: string[]): void {
    if (ids.length === 0) return;
    store
      .getRuns(ids)
      .then((runs) => watches.publish(runs))
      .catch((error: unknown) => republishLater(ids, error));
  }

  async function getRun(runId: string): Promise<RunRecord> {
    const [run] = await store.getRuns([runId]);
    if (!run) throw new ConnectError(`task run ${JSON.stringify(runId)} not found`, Code.NotFound);
    return run;
  }

  async function watch(watcher: Watcher, runIds: string[]): Promise<string[]> {
    watches.add(watcher, runIds);
    // A run leased here has nothing to send a watcher of final states yet: no read (a
    // future's result() right after its delay() finds its run leased, in W2 every time).
    const toRead = watcher.finalOnly && leased ? runIds.filter((id) => !leased(id)) : runIds;
    if (toRead.length === 0) return [];
    // A run may have finished before the watch began: send it now.
    const runs = await store.getRuns(toRead);
    const found = new Set(runs.map((run) => run.id));
    const current = runs.filter((run) => !watcher.finalOnly || FINAL_STATES.has(run.state));
    if (current.length > 0) watches.publish(current.filter((run) => FINAL_STATES.has(run.state)));
    const notFinal = current.filter((run) => !FINAL_STATES.has(run.state));
    if (notFinal.length > 0) watcher.deliver(notFinal);
    const unknown = toRead.filter((id) => !found.has(id));
    if (unknown.length > 0) watches.remove(watcher, unknown);
    return unknown;
  }

  return {
    watch,
    unwatch(watcher, runIds) {
      watches.remove(watcher, runIds);
    },
    async waitForFinal(runId, timeoutMs) {
      await getRun(runId);
      return new Promise<RunRecord>((resolve, reject) => {
        const watcher: Watcher = {
          finalOnly: true,
          deliver(runs) {
            clearTimeout(timer);
            watches.remove(watcher);
            resolve(runs[0]);
          },
        };
        const timer = setTimeout(() => {
          watches.remove(watcher);
          getRun(runId).then(resolve, reject);
        }, timeoutMs);
        watch(watcher, [runId]).catch(reject);
      });
    },
    async committed(work, result) {
      const changed = new Map<string, RunRecord | undefined>();
      work.batch.transitions.forEach((t, i) => {
        if (result.applied[i]) changed.set(t.runId, work.snapshots.get(t.runId));
      });
      for (const runs of result.claimed) for (const run of runs) changed.set(run.id, run);
      const ids = watches.watched(changed.keys());
      if (ids.length === 0) return;
      const known = ids.map((id) => changed.get(id)).filter((run): run is RunRecord => run !== undefined);
      const unknown = ids.filter((id) => !changed.get(id));
      let read: RunRecord[] = [];
      if (unknown.length > 0) {
        try {
          read = await store.getRuns(unknown);
        } catch (error) {
          republishLater(unknown, error);
        }
      }
      watches.publish([...known, ...read]);
    },
    changedElsewhere(runIds) {
      readAndPublish(runIds === "all" ? watches.all() : watches.watched(runIds));
    },
    getRun,
    close() {
      closed = true;
      clearTimeout(republishTimer);
    },
  };
}
