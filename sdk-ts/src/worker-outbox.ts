import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AsyncQueue } from "./async-queue.js";
import type {
  LeaseRefSchema,
  RunFailureSchema,
  RunResultSchema,
  SubscribeTaskRunsRequestSchema,
  WorkerLogLineSchema,
} from "@taskwire/proto";

type Request = MessageInitShape<typeof SubscribeTaskRunsRequestSchema>;
type LeaseRef = MessageInitShape<typeof LeaseRefSchema>;

export interface WorkerOutbox {
  started(ref: LeaseRef): void;
  heartbeat(refs: LeaseRef[]): void;
  completed(result: MessageInitShape<typeof RunResultSchema>): void;
  failed(failure: MessageInitShape<typeof RunFailureSchema>): void;
  released(ref: LeaseRef): void;
  log(line: MessageInitShape<typeof WorkerLogLineSchema>): void;
  drain(): void;
}

/**
 * Everything a worker reports in one turn of the event loop leaves as one message per
 * kind: 50 runs finishing together are one Completed message, not 50.
 */
export function createWorkerOutbox(stream: AsyncQueue<Request>): WorkerOutbox {
  let started: LeaseRef[] = [];
  let completed: MessageInitShape<typeof RunResultSchema>[] = [];
  let failed: MessageInitShape<typeof RunFailureSchema>[] = [];
  let released: LeaseRef[] = [];
  let logs: MessageInitShape<typeof WorkerLogLineSchema>[] = [];
  let queued = false;

  function flush(): void {
    queued = false;
    // Started goes first: the server must see the ack before the result of the same run.
    if (started.length) stream.push({ message: { case: "started", value: { runs: started } } });
    if (logs.length) stream.push({ message: { case: "logs", value: { lines: logs } } });
    if (completed.length) stream.push({ message: { case: "completed", value: { results: completed } } });
    if (failed.length) stream.push({ message: { case: "failed", value: { failures: failed } } });
    if (released.length) stream.push({ message: { case: "released", value: { runs: released } } });
    started = [];
    completed = [];
    failed = [];
    released = [];
    logs = [];
  }

  function later(): void {
    if (queued) return;
    queued = true;
    setImmediate(flush);
  }

  return {
    started(ref) {
      started.push(ref);
      later();
    },
    heartbeat(refs) {
      stream.push({ message: { case: "heartbeat", value: { runs: refs } } });
    },
    completed(result) {
      completed.push(result);
      later();
    },
    failed(failure) {
      failed.push(failure);
      later();
    },
    released(ref) {
      released.push(ref);
      later();
    },
    log(line) {
      logs.push(line);
      later();
    },
    drain() {
      flush();
      stream.push({ message: { case: "drain", value: {} } });
    },
  };
}
