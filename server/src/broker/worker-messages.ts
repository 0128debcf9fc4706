import { randomBytes } from "node:crypto";
import type { LogRecord, StoredError, StoredPayload } from "../store/store.js";
import type { BrokerCore } from "./broker-core.js";
import type { Session } from "./lease-table.js";
import type { LeaseAck, LeaseRef, WorkerChannel, WorkerInfo, WorkerSession } from "./worker-channel.js";

/** What the broker does with each message of a worker's stream (and the unary Heartbeat). */
export interface WorkerMessages {
  connectWorker(info: WorkerInfo, channel: WorkerChannel): WorkerSession;
  /** What was queued on the worker's stream has mostly gone out: it may get work again. */
  writable(session: WorkerSession): void;
  disconnectWorker(session: WorkerSession, reason: string): void;
  started(session: WorkerSession, refs: LeaseRef[]): void;
  heartbeat(session: WorkerSession, refs: LeaseRef[]): void;
  /**
   * A heartbeat sent outside the stream (WorkerService.Heartbeat) for the stream with this
   * session id, on whichever server holds it. Returns the refused leases, or undefined when
   * no such stream holds any lease named.
   */
  heartbeatSession(sessionId: string, refs: LeaseRef[]): Promise<LeaseAck[] | undefined>;
  completed(session: WorkerSession, results: (LeaseRef & { result: StoredPayload })[]): void;
  failed(session: WorkerSession, failures: (LeaseRef & { error: StoredError })[]): void;
  released(session: WorkerSession, refs: LeaseRef[]): void;
  logs(session: WorkerSession, lines: (LeaseRef & { at: number; level: string; message: string })[]): void;
  drainWorker(session: WorkerSession): void;
}

export function createWorkerMessages(core: BrokerCore): WorkerMessages {
  const { table, limits, now, logger } = core;

  function wantDispatch(): void {
    core.dispatcher.want();
    core.commits.queueFlush();
  }

  /**
   * A heartbeat for a stream this server does not hold: the leases are rows, so it extends
   * them in the store (one statement, fenced by stream and token) like the stream's own
   * server would.
   */
  async function heartbeatElsewhere(sessionId: string, refs: LeaseRef[]): Promise<LeaseAck[] | undefined> {
    if (refs.length === 0) return [];
    const extension = { sessionId, tokens: refs.map((ref) => ref.leaseToken), deadline: now() + limits.leaseDurationMs, at: now() };
    const extended = await new Promise<string[]>((resolve, reject) => {
      core.commits.write(
        (batch) => batch.extensions.push(extension),
        (result, batch) => resolve(result.extended[batch.extensions.indexOf(extension)] ?? []),
        reject,
      );
    });
    if (extended.length === 0) return undefined;
    const held = new Set(extended);
    return refs.filter((ref) => !held.has(ref.leaseToken)).map((ref) => refusedHeartbeat(ref));
  }

  return {
    connectWorker(info, channel) {
      const session: Session = {
        ...info,
        sessionId: randomBytes(8).toString("hex"),
        channel,
        held: new Set(),
        draining: core.closing,
        connected: true,
        missedLeases: new Set(),
      };
      table.sessions.set(session.sessionId, session);
      core.store
        .openWorkerSession({
          sessionId: session.sessionId,
          serverId: core.serverId,
          workerId: info.workerId,
          taskKeys: info.taskKeys,
          limit: info.limit,
          language: info.language ?? "",
          sdkVersion: info.sdkVersion ?? "",
          hostname: info.hostname ?? "",
          pid: info.pid ?? 0,
          connectedAt: now(),
        })
        .catch((error: unknown) => logger.error({ err: error }, "could not record the worker stream for ListWorkers"));
      logger.info({ workerId: info.workerId, taskKeys: info.taskKeys, limit: info.limit }, "worker connected");
      wantDispatch();
      return session;
    },
    writable(handle) {
      if ((handle as Session).connected) wantDispatch();
    },
    disconnectWorker(handle, reason) {
      const session = handle as Session;
      if (!session.connected) return;
      session.connected = false;
      table.sessions.delete(session.sessionId);
      core.store
        .closeWorkerSession(session.sessionId)
        .catch((error: unknown) => logger.error({ err: error }, "could not remove the worker stream from ListWorkers"));
      let lost = 0;
      for (const lease of table.leases.values()) {
        if (lease.session === session) {
          // A run a draining worker never started was sent to it while its Drain was on the
          // way (or before it asked): handing it back is no fault of the run, so it does not
          // use up one of its max_redeliveries. A started one may have crashed the worker.
          const counts = !(session.draining && !lease.running);
          core.outcomes.loseLease(lease, `worker ${session.workerId} disconnected (${reason})`, counts);
          lost++;
        }
      }
      logger.info({ workerId: session.workerId, requeued: lost, reason }, "worker disconnected");
    },
    started(handle, refs) {
      const session = handle as Session;
      core.outcomes.namedLeases(session, refs);
      for (const ref of refs) {
        const lease = table.leaseFor(session, ref, "STARTED");
        if (lease) core.outcomes.started(lease);
      }
    },
    heartbeat(handle, refs) {
      const session = handle as Session;
      core.outcomes.namedLeases(session, refs);
      const deadline = now() + limits.leaseDurationMs;
      for (const ref of refs) {
        const lease = table.leaseFor(session, ref, "HEARTBEAT");
        if (lease) core.outcomes.extendLease(lease, deadline);
      }
    },
    async heartbeatSession(sessionId, refs) {
      const session = table.sessions.get(sessionId);
      if (!session?.connected) return heartbeatElsewhere(sessionId, refs);
      core.outcomes.namedLeases(session, refs);
      const deadline = now() + limits.leaseDurationMs;
      const refused: LeaseAck[] = [];
      for (const ref of refs) {
        const lease = table.leases.get(ref.runId);
        if (lease && lease.token === ref.leaseToken && lease.session === session) core.outcomes.extendLease(lease, deadline);
        else refused.push(refusedHeartbeat(ref));
      }
      return refused;
    },
    completed(handle, results) {
      const session = handle as Session;
      core.outcomes.namedLeases(session, results);
      for (const item of results) {
        const lease = table.leaseFor(session, item, "COMPLETED");
        if (lease) core.outcomes.completed(lease, item.result);
      }
    },
    failed(handle, failures) {
      const session = handle as Session;
      core.outcomes.namedLeases(session, failures);
      for (const item of failures) {
        const lease = table.leaseFor(session, item, "FAILED");
        if (lease) core.outcomes.failAttempt(lease, item.error);
      }
    },
    released(handle, refs) {
      const session = handle as Session;
      core.outcomes.namedLeases(session, refs);
      for (const ref of refs) {
        const lease = table.leaseFor(session, ref, "RELEASED");
        if (lease) core.outcomes.released(lease);
      }
    },
    logs(handle, lines) {
      const session = handle as Session;
      const records: LogRecord[] = [];
      for (const line of lines) {
        const lease = table.leaseFor(session, line, "LOG");
        if (lease) {
          records.push({ runId: line.runId, at: line.at, level: line.level, message: line.message, attempt: lease.run.attempts });
        }
      }
      if (records.length > 0) core.commits.write((batch) => batch.logs.push(...records));
    },
    drainWorker(handle) {
      (handle as Session).draining = true;
    },
  };
}

function refusedHeartbeat(ref: LeaseRef): LeaseAck {
  return { ...ref, kind: "HEARTBEAT", accepted: false, reason: `run ${ref.runId} is not leased under this token to this worker` };
}
