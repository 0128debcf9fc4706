import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { isEmptyChanges } from "../store/change-feed.js";
import type { CommitResult, ConcurrencyLimitRecord, NewRun, RunRecord, Store, WorkerSessionRecord, WriteBatch } from "../store/store.js";
import { createAttemptOutcomes } from "./attempt-outcomes.js";
import type { BrokerCore } from "./broker-core.js";
import { type BrokerLimits, DEFAULT_LIMITS } from "./broker-limits.js";
import { createCancelRequests } from "./cancel-requests.js";
import { commitRefusal } from "./commit-refusal.js";
import { createDispatcher } from "./dispatcher.js";
import { createExpiredLeases } from "./expired-leases.js";
import { createGroupCommit } from "./group-commit.js";
import { createLeaseExpiry } from "./lease-expiry.js";
import { createLeaseTable } from "./lease-table.js";
import { changesOf, createPeerChanges } from "./peer-changes.js";
import { createRunWatchers } from "./run-watchers.js";
import { createScheduledWakeUp } from "./scheduled-wake-up.js";
import type { Watcher } from "./watch-registry.js";
import { createWorkerMessages, type WorkerMessages } from "./worker-messages.js";

export type { AckKind, LeaseAck, LeasedRun, LeaseRef, WorkerChannel, WorkerInfo, WorkerSession } from "./worker-channel.js";
export { type BrokerLimits, DEFAULT_LIMITS } from "./broker-limits.js";

export interface BrokerOptions {
  store: Store;
  /** The concurrency limits stored, loaded before the broker starts. */
  concurrencyLimits?: ConcurrencyLimitRecord[];
  logger: Logger;
  limits?: Partial<BrokerLimits>;
  clock?: () => number;
  /** This server's id, written on the leases it grants; random per process by default. */
  serverId?: string;
  /** Of these servers, the dead ones ("all": every other one); default: none known dead. */
  deadServers?: (serverIds: readonly string[]) => Promise<"all" | readonly string[]>;
  /** Told of each batch this server committed (the web UI's live views); must not throw. */
  onCommitted?: (batch: WriteBatch, result: CommitResult) => void;
  /** Told of runs the other servers created or changed (the web UI's live views); must not throw. */
  onPeerChanged?: (runIds: readonly string[] | "all") => void;
}

/** A worker stream open on some server of the database. */
export interface ConnectedWorkerInfo extends WorkerSessionRecord {
  runsInFlight: number;
}

export interface BrokerStats {
  workersConnected: number;
  runsLeased: number;
  commitsTotal: number;
  runsScheduledTotal: number;
  claimsTotal: number;
  /** Bytes queued on worker streams and not sent yet (a worker not reading keeps them). */
  unsentBytes: number;
}

export interface ConcurrencyLimitInfo {
  tag: string;
  limit: number;
  active: number;
}

export interface Broker extends WorkerMessages {
  readonly limits: BrokerLimits;
  /**
   * Resolves once the broker hears the other servers' changes. A server listens for
   * workers only after it: a key found dry before would miss the notice of its next run.
   */
  ready(): Promise<void>;
  /** Stores new runs; resolves once they are committed. */
  schedule(runs: NewRun[]): Promise<{ id: string; existing: boolean }[]>;
  cancel(runId: string): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  watch(watcher: Watcher, runIds: string[]): Promise<string[]>;
  unwatch(watcher: Watcher, runIds?: string[]): void;
  /** Resolves with the run once final, or as it is when the timeout passes. */
  waitForFinal(runId: string, timeoutMs: number): Promise<RunRecord>;
  /** Counters and gauges for /metrics. */
  stats(): BrokerStats;
  setConcurrencyLimit(tag: string, limit: number): Promise<ConcurrencyLimitInfo>;
  deleteConcurrencyLimit(tag: string): Promise<void>;
  /** Each limit, with the leased runs counted against it on every server. */
  listConcurrencyLimits(): Promise<ConcurrencyLimitInfo[]>;
  /** The workers connected to any live server of the database, oldest first. */
  listWorkers(): Promise<ConnectedWorkerInfo[]>;
  /** Asks workers to drain, waits up to `graceMs` for their runs, hands the rest back. */
  close(graceMs: number): Promise<void>;
}

/**
 * The broker: decides who runs what, with the store as the truth. It wires its parts: the
 * group commit (group-commit.ts) through which every change goes, the dispatcher that
 * claims runs for workers, the attempt outcomes, the lease expiry from the store, the
 * scheduled wake-up, the run watchers, and the change feed from the other servers.
 */
export function createBroker(options: BrokerOptions): Broker {
  const { store, logger } = options;
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.clock ?? Date.now;
  const serverId = options.serverId ?? randomBytes(8).toString("hex");
  const core = { store, logger, limits, now, serverId, closing: false, table: createLeaseTable() } as BrokerCore;
  core.watchers = createRunWatchers({ store, logger });
  core.dispatcher = createDispatcher(core, (options.concurrencyLimits ?? []).map((l) => l.tag));
  core.outcomes = createAttemptOutcomes(core);
  core.wakeUp = createScheduledWakeUp({
    store,
    clock: now,
    logger,
    onDue() {
      core.dispatcher.wakeAll();
      core.commits.queueFlush();
    },
  });
  core.commits = createGroupCommit({
    store,
    logger,
    clock: now,
    hooks: {
      wanted: () => core.dispatcher.wanted,
      closing: () => core.closing,
      retry: () => core.dispatcher.want(),
      prepare(work) {
        const changes = changesOf(work, now());
        if (!isEmptyChanges(changes)) work.batch.changes = { origin: serverId, changes };
        const granted = core.dispatcher.prepare(work);
        // Not async until the watchers' read: a caller told of the commit must not read the
        // store before the watchers' read is under way.
        return (result) => {
          options.onCommitted?.(work.batch, result);
          // Retries scheduled for later need the timer; it may have read the store before.
          const at = now();
          for (const t of work.batch.transitions) {
            if (t.patch.state === "SCHEDULED" && (t.patch.scheduledAt ?? 0) > at) core.wakeUp.noLaterThan(t.patch.scheduledAt ?? at);
          }
          granted(result);
          return core.watchers.committed(work, result);
        };
      },
    },
  });
  const expired = createExpiredLeases(core);
  core.expiry = createLeaseExpiry({
    store,
    serverId,
    clock: now,
    logger,
    peerCheckMs: limits.leaseDurationMs,
    localNext: () => core.table.nextDeadline(),
    onStall: expired.stalled,
    onExpired: expired.expire,
  });
  const messages = createWorkerMessages(core);
  const cancel = createCancelRequests(core);
  // Runs scheduled for later, from before a restart, need the timer too.
  core.wakeUp.readNext();
  const unsubscribe = store.changeFeed.subscribe(serverId, createPeerChanges(core, options.onPeerChanged)).catch((error: unknown) => {
    logger.error({ err: error }, "could not listen to the other servers' changes");
    return async () => {};
  });

  function countConcurrency(): Promise<ConcurrencyLimitInfo[]> {
    return store.countConcurrency().catch((error: unknown) => {
      throw new ConnectError(`could not count the runs under concurrency limits: ${String(error)}`, Code.Unavailable);
    });
  }

  /** A limit changed: every key may have runs to go, here and on the other servers. */
  async function limitsChanged(): Promise<void> {
    await store.changeFeed.publish(serverId, { limits: true }).catch(() => {});
    core.dispatcher.wakeAll();
    core.commits.queueFlush();
  }

  return {
    limits,
    ...messages,
    async ready() {
      await unsubscribe;
    },
    schedule(runs) {
      if (runs.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        core.commits.write(
          (batch) => batch.inserts.push(...runs),
          (result, batch) => {
            // Found by identity: a batch retried after a failed commit may hold more before it.
            const offset = batch.inserts.indexOf(runs[0]);
            resolve(result.inserted.slice(offset, offset + runs.length));
          },
          reject,
        );
        const at = now();
        for (const { record } of runs) {
          if (record.state !== "SCHEDULED") continue;
          if (record.scheduledAt <= at) core.dispatcher.markKeyReady(record.taskKey);
          else core.wakeUp.noLaterThan(record.scheduledAt);
        }
      });
    },
    cancel,
    getRun: core.watchers.getRun,
    watch: core.watchers.watch,
    unwatch: core.watchers.unwatch,
    waitForFinal: core.watchers.waitForFinal,
    stats() {
      let unsentBytes = 0;
      for (const session of core.table.sessions.values()) unsentBytes += session.channel.unsentBytes;
      return { workersConnected: core.table.sessions.size, runsLeased: core.table.leases.size, unsentBytes, ...core.commits.counters };
    },
    async setConcurrencyLimit(tag, limit) {
      await store.setConcurrencyLimit({ tag, limit }).catch((error: unknown) => {
        throw commitRefusal(error, store.location);
      });
      core.dispatcher.limitedTags.add(tag);
      await limitsChanged();
      return (await countConcurrency()).find((l) => l.tag === tag) ?? { tag, limit, active: 0 };
    },
    async deleteConcurrencyLimit(tag) {
      const deleted = await store.deleteConcurrencyLimit(tag).catch((error: unknown) => {
        throw commitRefusal(error, store.location);
      });
      if (!deleted) {
        throw new ConnectError(`no concurrency limit for tag ${JSON.stringify(tag)}`, Code.NotFound);
      }
      core.dispatcher.limitedTags.delete(tag);
      await limitsChanged();
    },
    listConcurrencyLimits: countConcurrency,
    async listWorkers() {
      const workers = await store.listWorkerSessions().catch((error: unknown) => {
        throw new ConnectError(`could not read the worker streams: ${String(error)}`, Code.Unavailable);
      });
      // Streams of a server killed since it recorded them: left out, and forgotten.
      const others = [...new Set(workers.map((w) => w.serverId))].filter((id) => id !== serverId);
      const dead = others.length > 0 && options.deadServers ? await options.deadServers(others) : [];
      const gone = new Set(dead === "all" ? others : dead);
      if (gone.size > 0) {
        store.forgetWorkerSessions([...gone], serverId).catch((error: unknown) => logger.error({ err: error }, "could not forget dead servers' worker streams"));
      }
      return workers.filter((w) => !gone.has(w.serverId));
    },
    async close(graceMs) {
      core.closing = true;
      core.expiry.close();
      core.wakeUp.close();
      await (await unsubscribe)();
      const { sessions, leases } = core.table;
      for (const session of sessions.values()) {
        session.draining = true;
        session.channel.drain(graceMs);
      }
      const deadline = now() + graceMs;
      while (leases.size > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const lease of [...leases.values()]) {
        core.outcomes.endLease(lease);
        core.outcomes.writeTransition(lease.run, core.outcomes.lostTransition(lease.run, "the server shut down", false));
      }
      await core.commits.drain(10_000);
      core.watchers.close();
    },
  };
}
