import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createAsyncQueue } from "taskwire/async-queue";
import { type Ack, type Assignment, type SubscribeTaskRunsRequestSchema, WorkerService } from "@taskwire/proto";

type Request = NonNullable<MessageInitShape<typeof SubscribeTaskRunsRequestSchema>["message"]>;

/**
 * A worker stream driven message by message, to send what a well-behaved worker never
 * would (a stale lease token) and see exactly what the server answers.
 */
export interface RawWorkerStream {
  send(message: Request): void;
  /** The next Assignment, or an error after `ms`. */
  nextAssignment(ms: number): Promise<Assignment>;
  /** The next Ack matching `match`, or an error after `ms`. */
  nextAck(match: (ack: Ack) => boolean, ms: number): Promise<Ack>;
  close(): Promise<void>;
}

export function openRawWorkerStream(url: string, hello: { taskKeys: string[]; limit: number }): RawWorkerStream {
  const requests = createAsyncQueue<MessageInitShape<typeof SubscribeTaskRunsRequestSchema>>();
  const client = createClient(WorkerService, createGrpcTransport({ baseUrl: url }));
  const assignments: Assignment[] = [];
  const acks: Ack[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  requests.push({
    message: {
      case: "hello",
      value: { protocolVersion: 1, workerId: `conformance-raw-${process.pid}-${Date.now()}`, language: "conformance", ...hello },
    },
  });
  const reading = (async () => {
    try {
      for await (const response of client.subscribeTaskRuns(requests)) {
        const message = response.message;
        if (message.case === "assignments") assignments.push(...message.value.assignments);
        if (message.case === "acks") acks.push(...message.value.acks);
        wake?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      wake?.();
    }
  })();

  async function next<T>(take: () => T | undefined, what: string, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = take();
      if (found !== undefined) return found;
      if (failure) throw new Error(`the stream failed while waiting for ${what}: ${(failure as Error).message}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
  }

  return {
    send: (message) => requests.push({ message }),
    nextAssignment: (ms) => next(() => assignments.shift(), "Assignment", ms),
    nextAck(match, ms) {
      return next(
        () => {
          const i = acks.findIndex(match);
          return i < 0 ? undefined : acks.splice(i, 1)[0];
        },
        "Ack",
        ms,
      );
    },
    async close() {
      requests.close();
      await reading;
    },
  };
}
