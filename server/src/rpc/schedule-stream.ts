import { ConnectError } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "taskwire/async-queue";
import type { ScheduleTaskRunStreamRequest, ScheduleTaskRunStreamResponseSchema, TaskRunSpec } from "@taskwire/proto";

type Response = MessageInitShape<typeof ScheduleTaskRunStreamResponseSchema>;

/**
 * Requests of one stream committing at once. Each holds its runs (up to 10,000) until its
 * commit, so a client that sends without reading answers is held here: past 64 the stream
 * reads no more until one is answered (W1's 64 delays in flight fill one request).
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
    let inFlight = 0;
    let readingDone = false;
    let room: (() => void) | undefined;

    function answered(response: Response): void {
      out.push(response);
      inFlight--;
      room?.();
      room = undefined;
      if (readingDone && inFlight === 0) out.close();
    }

    void (async () => {
      for await (const request of requests) {
        const requestId = request.requestId;
        inFlight++;
        schedule(request.runs).then(
          (runs) => answered({ requestId, runs }),
          (error: unknown) => {
            const refusal = ConnectError.from(error);
            answered({ requestId, errorCode: refusal.code, errorMessage: refusal.rawMessage });
          },
        );
        if (inFlight >= MAX_STREAM_REQUESTS_IN_FLIGHT) await new Promise<void>((resolve) => (room = resolve));
      }
      readingDone = true;
      if (inFlight === 0) out.close();
    })().catch((error: unknown) => out.fail(error));
    yield* out;
  };
}
