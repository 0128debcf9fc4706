import { Code, type Client, ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ScheduleTaskRunResponse, ScheduleTaskRunStreamRequestSchema, TaskRunService, TaskRunSpecSchema } from "@taskwire/proto";
import { createAsyncQueue, type AsyncQueue } from "./async-queue.js";

type Spec = MessageInitShape<typeof TaskRunSpecSchema>;
type Request = MessageInitShape<typeof ScheduleTaskRunStreamRequestSchema>;
type Pending = { resolve: (runs: ScheduleTaskRunResponse[]) => void; reject: (error: unknown) => void; specs: Spec[] };

export interface ScheduleStream {
  /** Schedules the runs in one commit; resolves once it is durable. */
  send(specs: Spec[]): Promise<ScheduleTaskRunResponse[]>;
  close(): void;
}

/** Keep the stream this long after the last answer, so back-to-back delays reuse it. */
const LINGER_MS = 200;

/**
 * Sends a client's schedules over one ScheduleTaskRunStream: each batch is one message on
 * a stream already open instead of a unary call (a new HTTP/2 stream, whose END_STREAM the
 * server waits for a turn later, and a response of three frames). The stream opens with
 * the first batch and closes LINGER_MS after the last answer, so a script can exit.
 *
 * A server without the stream (older than this SDK) answers UNIMPLEMENTED before it
 * scheduled anything: the batches are sent again as ScheduleTaskRuns calls, and so is
 * every later one. A broken stream fails the batches it carried (`readable` turns the
 * transport's error into the one a unary call would have thrown): whether their commit
 * happened is unknown, exactly as for a unary call that lost its connection, so they are
 * never sent twice.
 */
export function createScheduleStream(
  client: Client<typeof TaskRunService>,
  readable: (error: unknown) => unknown,
): ScheduleStream {
  let unary = false;
  let stream: { requests: AsyncQueue<Request>; pending: Map<bigint, Pending>; abort: AbortController } | undefined;
  let nextId = 0n;
  let lingerTimer: NodeJS.Timeout | undefined;

  async function sendUnary(specs: Spec[]): Promise<ScheduleTaskRunResponse[]> {
    try {
      return (await client.scheduleTaskRuns({ runs: specs })).runs;
    } catch (error) {
      throw readable(error);
    }
  }

  function open(): NonNullable<typeof stream> {
    const current = { requests: createAsyncQueue<Request>(), pending: new Map<bigint, Pending>(), abort: new AbortController() };
    stream = current;
    void (async () => {
      let failure: unknown;
      try {
        for await (const response of client.scheduleTaskRunStream(current.requests, { signal: current.abort.signal })) {
          const waiter = current.pending.get(response.requestId);
          if (!waiter) continue;
          current.pending.delete(response.requestId);
          if (response.errorCode !== 0) waiter.reject(new ConnectError(response.errorMessage, response.errorCode as Code));
          else waiter.resolve(response.runs);
          if (current.pending.size === 0) lingerThenClose(current);
        }
      } catch (error) {
        failure = error;
      }
      if (stream === current) stream = undefined;
      current.requests.close();
      if (failure instanceof ConnectError && failure.code === Code.Unimplemented) {
        unary = true;
        for (const waiter of current.pending.values()) sendUnary(waiter.specs).then(waiter.resolve, waiter.reject);
        return;
      }
      for (const waiter of current.pending.values()) {
        waiter.reject(
          failure === undefined
            ? new ConnectError("the server ended the schedule stream before it answered", Code.Unavailable)
            : readable(failure),
        );
      }
    })();
    return current;
  }

  function lingerThenClose(current: NonNullable<typeof stream>): void {
    clearTimeout(lingerTimer);
    lingerTimer = setTimeout(() => {
      if (current.pending.size > 0) return;
      if (stream === current) stream = undefined;
      current.requests.close();
    }, LINGER_MS);
  }

  return {
    send(specs) {
      if (unary) return sendUnary(specs);
      clearTimeout(lingerTimer);
      const current = stream ?? open();
      const requestId = nextId++;
      return new Promise((resolve, reject) => {
        current.pending.set(requestId, { resolve, reject, specs });
        current.requests.push({ requestId, runs: specs });
      });
    },
    close() {
      clearTimeout(lingerTimer);
      stream?.abort.abort();
      stream = undefined;
    },
  };
}
