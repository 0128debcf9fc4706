import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createAsyncQueue } from "taskwire/async-queue";
import {
  type Ack,
  type Assignment,
  type SubscribeTaskRunsRequestSchema,
  type SubscribeTaskRunsResponse,
  WorkerService,
} from "@taskwire/proto";

type Request = MessageInitShape<typeof SubscribeTaskRunsRequestSchema>;

/**
 * A worker speaking the protocol by hand, message by message, to test what the server
 * does with exactly what a worker sends (including what a well-behaved SDK never would).
 * `transport.readMaxBytes` makes it refuse larger messages, as gRPC libraries do past 4 MiB.
 */
export function openRawWorker(
  url: string,
  hello?: { taskKeys: string[]; limit: number },
  transport?: { readMaxBytes?: number },
) {
  const requests = createAsyncQueue<Request>();
  const client = createClient(WorkerService, createGrpcTransport({ baseUrl: url, ...transport }));
  const received: SubscribeTaskRunsResponse[] = [];
  const assignments: Assignment[] = [];
  const acks: Ack[] = [];
  const abort = new AbortController();
  let error: unknown;
  let ended = false;
  if (hello) {
    requests.push({
      message: { case: "hello", value: { protocolVersion: 1, workerId: `raw-${Math.random()}`, language: "test", ...hello } },
    });
  }
  const done = (async () => {
    try {
      for await (const message of client.subscribeTaskRuns(requests, { signal: abort.signal })) {
        received.push(message);
        if (message.message.case === "assignments") assignments.push(...message.message.value.assignments);
        if (message.message.case === "acks") acks.push(...message.message.value.acks);
      }
    } catch (e) {
      error = e;
    } finally {
      ended = true;
    }
  })();
  return {
    received,
    assignments,
    acks,
    send: (message: Request) => requests.push(message),
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
    done,
    close() {
      requests.close();
      return done;
    },
    kill() {
      abort.abort();
      return done;
    },
  };
}
