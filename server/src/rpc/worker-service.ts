import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  AckKind,
  type RunResult,
  type SubscribeTaskRunsRequest,
  type SubscribeTaskRunsResponse,
  SubscribeTaskRunsResponseSchema,
  WorkerService,
} from "@taskwire/proto";
import type { Broker, LeasedRun, WorkerChannel, WorkerSession } from "../broker/broker.js";
import { DISPATCH_BYTES_PER_WORKER, MAX_UNSENT_BYTES_FOR_DISPATCH } from "../broker/dispatch-budget.js";
import { maxMessageBytes, splitAssignments } from "./assignment-size.js";
import { createOutboundQueue } from "./outbound-queue.js";
import { checkPayload, JSON_CONTENT_TYPE } from "./payload-rules.js";
import { timestampFieldMs } from "./timestamp-field.js";

export const PROTOCOL_VERSION = 1;
/**
 * Task keys one worker may serve, and their length (as ScheduleTaskRun allows). Each key
 * is an entry in the broker's queues for the life of the stream; no real worker serves
 * anywhere near 1,000 tasks.
 */
export const MAX_HELLO_TASK_KEYS = 1_000;
export const MAX_TASK_KEY_LENGTH = 256;
export const MAX_WORKER_ID_LENGTH = 256;

/**
 * The largest `Hello.limit` honoured; a larger one is served as this. Beyond 10,000 runs in
 * flight on one stream, a worker is better served as several.
 */
export const MAX_WORKER_LIMIT = 10_000;

export interface WorkerServiceOptions {
  broker: Broker;
  logger: Logger;
  serverVersion: string;
}

type Outgoing = NonNullable<MessageInitShape<typeof SubscribeTaskRunsResponseSchema>["message"]>;

/** `WorkerService.SubscribeTaskRuns`: the one stream a worker needs. */
export function createWorkerService(options: WorkerServiceOptions): ServiceImpl<typeof WorkerService> {
  const { broker, logger } = options;
  const limits = broker.limits;

  return {
    async heartbeat(request) {
      const refused = await broker.heartbeatSession(request.sessionId, request.runs);
      if (!refused) {
        throw new ConnectError(`no open SubscribeTaskRuns stream has session_id ${JSON.stringify(request.sessionId)}`, Code.NotFound);
      }
      return { refused: refused.map((a) => ({ ...a, kind: AckKind[a.kind] })) };
    },
    async listWorkers() {
      const workers = await broker.listWorkers();
      return {
        workers: workers.map((w) => ({
          ...w,
          connectedAt: timestampFromMs(w.connectedAt),
          lastHeartbeatAt: w.lastHeartbeatAt === undefined ? undefined : timestampFromMs(w.lastHeartbeatAt),
        })),
      };
    },
    async *subscribeTaskRuns(requests) {
      const incoming = requests[Symbol.asyncIterator]();
      const first = await incoming.next();
      if (first.done) return;
      const hello = first.value.message;
      if (hello.case !== "hello") {
        throw new ConnectError(
          `the first message on SubscribeTaskRuns must be Hello, not ${hello.case ?? "an empty message"}`,
          Code.FailedPrecondition,
        );
      }
      const { workerId, protocolVersion } = hello.value;
      const taskKeys = [...new Set(hello.value.taskKeys.map((key) => key.trim()))];
      if (protocolVersion !== PROTOCOL_VERSION) {
        throw new ConnectError(
          `Hello.protocol_version ${protocolVersion} is not supported; this server speaks ${PROTOCOL_VERSION}`,
          Code.FailedPrecondition,
        );
      }
      if (!workerId) throw new ConnectError("Hello.worker_id: must not be empty", Code.InvalidArgument);
      if (workerId.length > MAX_WORKER_ID_LENGTH) {
        throw new ConnectError(`Hello.worker_id: ${workerId.length} characters, over the maximum of ${MAX_WORKER_ID_LENGTH}`, Code.InvalidArgument);
      }
      if (taskKeys.length === 0 || taskKeys.some((key) => !key)) {
        throw new ConnectError("Hello.task_keys: at least one non-empty task key is required", Code.InvalidArgument);
      }
      if (taskKeys.length > MAX_HELLO_TASK_KEYS) {
        throw new ConnectError(
          `Hello.task_keys: ${taskKeys.length} task keys, over the maximum of ${MAX_HELLO_TASK_KEYS} per worker stream; split them over several workers`,
          Code.InvalidArgument,
        );
      }
      const longKey = taskKeys.find((key) => key.length > MAX_TASK_KEY_LENGTH);
      if (longKey !== undefined) {
        throw new ConnectError(
          `Hello.task_keys: ${JSON.stringify(longKey.slice(0, 40))}… is ${longKey.length} characters, over the maximum of ${MAX_TASK_KEY_LENGTH}`,
          Code.InvalidArgument,
        );
      }
      if (hello.value.limit < 1) throw new ConnectError("Hello.limit: must be at least 1", Code.InvalidArgument);
      const limit = Math.min(hello.value.limit, MAX_WORKER_LIMIT);

      const messageBytes = maxMessageBytes(limits.maxPayloadBytes);
      const out = createOutboundQueue<SubscribeTaskRunsResponse>({
        // What a dispatch may add past the threshold (its budget, overshot by one run at
        // most), and a message more of acks and cancels: beyond, the worker is not reading.
        maxBytes: MAX_UNSENT_BYTES_FOR_DISPATCH + DISPATCH_BYTES_PER_WORKER + 2 * messageBytes,
        lowBytes: MAX_UNSENT_BYTES_FOR_DISPATCH,
        onLow: () => broker.writable(session),
      });
      let unread = false;
      const send = (message: Outgoing, bytes: number) => {
        if (unread || out.push(create(SubscribeTaskRunsResponseSchema, { message }), bytes)) return;
        unread = true;
        const reason = `the worker did not read its stream: ${out.unsentBytes} bytes are waiting to be sent to it`;
        logger.warn({ workerId, unsentBytes: out.unsentBytes }, reason);
        out.fail(new ConnectError(reason, Code.ResourceExhausted));
        broker.disconnectWorker(session, reason);
      };
      const channel: WorkerChannel = {
        get unsentBytes() {
          return out.unsentBytes;
        },
        assign(runs) {
          // Split so that no message is over what a gRPC library receives by default.
          for (const group of splitAssignments(runs, messageBytes)) {
            send({ case: "assignments", value: { assignments: group.runs.map(toAssignment) } }, group.bytes);
          }
        },
        ack(acks) {
          const bytes = acks.reduce((sum, a) => sum + a.runId.length + a.leaseToken.length + a.reason.length + 16, 0);
          send({ case: "acks", value: { acks: acks.map((a) => ({ ...a, kind: AckKind[a.kind] })) } }, bytes);
        },
        cancel(runIds, reason) {
          send({ case: "cancel", value: { runIds, reason } }, runIds.reduce((sum, id) => sum + id.length + 2, reason.length + 8));
        },
        drain(graceMs) {
          send({ case: "drain", value: { graceMs } }, 16);
        },
      };
      const { language, sdkVersion, hostname, pid } = hello.value;
      const session = broker.connectWorker({ workerId, taskKeys, limit, language, sdkVersion, hostname, pid }, channel);
      send(
        {
          case: "welcome",
          value: {
            serverVersion: options.serverVersion,
            protocolVersion: PROTOCOL_VERSION,
            heartbeatIntervalMs: limits.heartbeatIntervalMs,
            leaseDurationMs: limits.leaseDurationMs,
            ackTimeoutMs: limits.ackTimeoutMs,
            maxPayloadBytes: BigInt(limits.maxPayloadBytes),
            sessionId: session.sessionId,
          },
        },
        128,
      );
      if (limit < hello.value.limit) {
        logger.info({ workerId, limit: hello.value.limit, served: limit }, `Hello.limit is over ${MAX_WORKER_LIMIT}: served as ${limit}`);
      }

      void (async () => {
        let reason = "the worker closed the stream";
        let invalid: ConnectError | undefined;
        try {
          for (;;) {
            const next = await incoming.next();
            if (next.done) break;
            handle(session, next.value);
          }
        } catch (error) {
          reason = error instanceof ConnectError ? error.message : String(error);
          if (error instanceof ConnectError && error.code === Code.InvalidArgument) invalid = error;
        } finally {
          broker.disconnectWorker(session, reason);
          // After what is queued: every message read before the bad one gets its answer first.
          out.close(invalid);
        }
      })();

      try {
        yield* out;
      } finally {
        broker.disconnectWorker(session, "the stream ended");
      }
    },
  };

  function toAssignment({ run, leaseToken, leaseDeadline }: LeasedRun) {
    return {
      runId: run.id,
      taskKey: run.taskKey,
      attempt: run.attempts,
      leaseToken,
      parameters: run.parameters,
      leaseDeadline: timestampFromMs(leaseDeadline),
      timeoutMs: Math.round(run.options.timeoutSeconds * 1000),
      tags: run.options.tags,
    };
  }

  function handle(session: WorkerSession, request: SubscribeTaskRunsRequest): void {
    const message = request.message;
    switch (message.case) {
      case "started":
        return broker.started(session, message.value.runs);
      case "heartbeat":
        return broker.heartbeat(session, message.value.runs);
      case "completed":
        return completed(session, message.value.results);
      case "failed":
        return broker.failed(
          session,
          message.value.failures.map((f) => ({
            runId: f.runId,
            leaseToken: f.leaseToken,
            error: {
              type: f.error?.type || "Error",
              message: f.error?.message ?? "",
              stack: f.error?.stack ?? "",
              retryable: f.error?.retryable ?? true,
            },
          })),
        );
      case "logs":
        return broker.logs(
          session,
          message.value.lines.map((line) => ({
            runId: line.runId,
            leaseToken: line.leaseToken,
            at: line.time ? timestampFieldMs("Logs.lines.time", line.time) : Date.now(),
            level: line.level || "info",
            message: line.message,
          })),
        );
      case "released":
        return broker.released(session, message.value.runs);
      case "drain":
        return broker.drainWorker(session);
      case "hello":
        throw new ConnectError("Hello was already received on this stream", Code.InvalidArgument);
      default:
        throw new ConnectError("empty SubscribeTaskRunsRequest: set one of its message fields", Code.InvalidArgument);
    }
  }

  /** A result that is not what its content type says fails the run instead of being stored. */
  function completed(session: WorkerSession, results: RunResult[]): void {
    const good = [];
    for (const r of results) {
      const payload = { contentType: r.result?.contentType || JSON_CONTENT_TYPE, data: r.result?.data ?? new Uint8Array() };
      try {
        // Oversize results are the broker's to refuse (it fails the attempt); here only the format.
        checkPayload("Completed.result", payload, Number.POSITIVE_INFINITY, "result");
        good.push({ runId: r.runId, leaseToken: r.leaseToken, result: payload });
      } catch (error) {
        const message = (error as ConnectError).rawMessage;
        logger.warn({ runId: r.runId, workerId: session.workerId }, message);
        broker.failed(session, [
          { runId: r.runId, leaseToken: r.leaseToken, error: { type: "InvalidResult", message, stack: "", retryable: false } },
        ]);
      }
    }
    broker.completed(session, good);
  }
}
