import { ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "taskwire/async-queue";
import type { ScheduleTaskRunStreamRequest, ScheduleTaskRunStreamResponseSchema, TaskRunSpec } from "@taskwire/proto";

type Response = MessageInitShape<typeof ScheduleTaskRunStreamResponseSchema>;

/**
 * Requests of one stream read and not yet answered on the wire. Each holds its runs (up to
 * 10,000) until its commit, and its answer until the client reads it, so a client that
 * sends without reading answers is held here: past 64 the stream reads no more until one
 * answer has gone out (W1's 64 delays in flight fill one request).
 */
export const MAX_STREAM_REQUESTS_IN_FLIGHT = 64;

/**
 * ScheduleTaskRunStream: ScheduleTaskRuns as messages of one long-lived stream. A unary
 * call costs a new HTTP/2 stream per `delay()` (HEADERS, DATA, then END_STREAM a turn later,
 * which the handler waits for; response HEADERS, DATA and trailers): about 0.8 ms of round
 * trip here, against one DATA frame each way on a stream already open. Each request is
 * answered once its commit is durable, with the error ScheduleTaskRuns would have thrown
 * if it is refused; the stream goes on.
 */
export function scheduleStream(schedule: (specs: TaskRunSpec[]) => Promise<{ id: string; existing: boolean }[]>) {
  return async function* (requests: AsyncIterable<ScheduleTaskRunStreamRequest>): AsyncIterable<Response> {
    const out = createAsyncQueue<Response>();
    // Requests read and not yet answered on the wire: committing, or answered and waiting
    // for the client to read. Counting the latter too holds a client that never reads.
    let unsent = 0;
    let committing = 0;
    let readingDone = false;
    let room: (() => void) | undefined;

    function answered(response: Response): void {
      out.push(response);
      committing--;
      if (readingDone && committing === 0) out.close();
    }

    void (async () => {
      for await (const request of requests) {
        const requestId = request.requestId;
        unsent++;
        committing++;
        schedule(request.runs).then(
          (runs) => answered({ requestId, runs }),
          (error: unknown) => {
            const refusal = ConnectError.from(error);
            answered({ requestId, errorCode: refusal.code, errorMessage: refusal.rawMessage });
          },
        );
        if (unsent >= MAX_STREAM_REQUESTS_IN_FLIGHT) await new Promise<void>((resolve) => (room = resolve));
      }
      readingDone = true;
      if (committing === 0) out.close();
    })().catch((error: unknown) => out.fail(error));
    for await (const response of out) {
      yield response;
      unsent--;
      room?.();
      room = undefined;
    }
  };
}
