import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { createAsyncQueue } from "taskwire/async-queue";
import {
  AckKind,
  type RunResult,
  type SubscribeTaskRunsRequest,
  type SubscribeTaskRunsResponse,
  SubscribeTaskRunsResponseSchema,
  WorkerService,
} from "taskwire/proto";
import type { Broker, WorkerChannel, WorkerSession } from "../broker/broker.js";
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
      const refused = broker.heartbeatSession(request.sessionId, request.runs);
      if (!refused) {
        throw new ConnectError(`no open SubscribeTaskRuns stream has session_id ${JSON.stringify(request.sessionId)}`, Code.NotFound);
      }
      return { refused: refused.map((a) => ({ ...a, kind: AckKind[a.kind] })) };
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
      const { workerId, limit, protocolVersion } = hello.value;
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
      if (limit < 1) throw new ConnectError("Hello.limit: must be at least 1", Code.InvalidArgument);

      const out = createAsyncQueue<SubscribeTaskRunsResponse>();
      const send = (message: Outgoing) => out.push(create(SubscribeTaskRunsResponseSchema, { message }));
      const channel: WorkerChannel = {
        assign(runs) {
          send({
            case: "assignments",
            value: {
              assignments: runs.map(({ run, leaseToken, leaseDeadline }) => ({
                runId: run.id,
                taskKey: run.taskKey,
                attempt: run.attempts,
                leaseToken,
                parameters: run.parameters,
                leaseDeadline: timestampFromMs(leaseDeadline),
                timeoutMs: Math.round(run.options.timeoutSeconds * 1000),
                tags: run.options.tags,
              })),
            },
          });
        },
        ack(acks) {
          send({ case: "acks", value: { acks: acks.map((a) => ({ ...a, kind: AckKind[a.kind] })) } });
        },
        cancel(runIds, reason) {
          send({ case: "cancel", value: { runIds, reason } });
        },
        drain(graceMs) {
          send({ case: "drain", value: { graceMs } });
        },
      };
      const session = broker.connectWorker({ workerId, taskKeys, limit }, channel);
      send({
        case: "welcome",
        value: {
          serverVersion: options.serverVersion,
          protocolVersion: PROTOCOL_VERSION,
          heartbeatIntervalMs: limits.heartbeatIntervalMs,
          leaseDurationMs: limits.leaseDurationMs,
          maxPayloadBytes: BigInt(limits.maxPayloadBytes),
          sessionId: session.sessionId,
        },
      });

      void (async () => {
        let reason = "the worker closed the stream";
        try {
          for (;;) {
            const next = await incoming.next();
            if (next.done) break;
            broker.heardFrom(session);
            handle(session, next.value);
          }
        } catch (error) {
          reason = error instanceof ConnectError ? error.message : String(error);
          if (error instanceof ConnectError && error.code === Code.InvalidArgument) out.fail(error);
        } finally {
          broker.disconnectWorker(session, reason);
          out.close();
        }
      })();

      try {
        yield* out;
      } finally {
        broker.disconnectWorker(session, "the stream ended");
      }
    },
  };

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
