import type { Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue, type AsyncQueue } from "./async-queue.js";
import { refusalOf } from "./server-refusal.js";
import { type TaskRun, TaskRunService, type WatchTaskRunsRequestSchema } from "@taskwire/proto";

export interface RunWatcher {
  /** Resolves with the run once it is final; rejects with the signal's reason if it aborts first. */
  whenFinal(runId: string, signal?: AbortSignal): Promise<TaskRun>;
  close(): void;
}

/** Keep the stream this long after the last waiter, so back-to-back waits reuse it. */
const LINGER_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * All the futures of one client wait on one WatchTaskRuns stream: each waiting run is one
 * small message on it, and the server pushes each run when it ends. No polling. The stream
 * opens with the first waiter and closes when none is left, so a script that has its
 * results can exit; if the stream breaks (server restart) it reopens and watches again.
 * A refusal a retry cannot fix (a wrong API key) rejects every waiter with it instead.
 */
export function createRunWatcher(client: Client<typeof TaskRunService>, apiUrl: string): RunWatcher {
  const waiters = new Map<string, { resolve: (run: TaskRun) => void; reject: (e: unknown) => void }[]>();
  let stream: { requests: AsyncQueue<MessageInitShape<typeof WatchTaskRunsRequestSchema>>; abort: AbortController } | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  let failures = 0;

  function open(): void {
    const requests = createAsyncQueue<MessageInitShape<typeof WatchTaskRunsRequestSchema>>();
    const abort = new AbortController();
    const current = { requests, abort };
    stream = current;
    requests.push({ runIds: [...waiters.keys()], finalOnly: true });
    void (async () => {
      try {
        for await (const response of client.watchTaskRuns(requests, { signal: abort.signal })) {
          failures = 0;
          for (const run of response.taskRuns) settle(run.id, (w) => w.resolve(run));
          for (const id of response.unknownRunIds) {
            settle(id, (w) => w.reject(new Error(`task run ${id} not found`)));
          }
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        if (stream === current) stream = undefined;
        const refusal = refusalOf(error, apiUrl, "waiting for runs");
        if (refusal) {
          for (const id of [...waiters.keys()]) settle(id, (w) => w.reject(refusal));
          return;
        }
        failures++;
        // A broken stream (the server restarted) is retried; waiters keep waiting.
        if (waiters.size > 0) {
          const delay = Math.min(100 * 2 ** failures, MAX_BACKOFF_MS);
          setTimeout(() => waiters.size > 0 && !stream && open(), delay);
        }
        return;
      }
      // Ended cleanly (closed for lingering, or the server shut down). A newer stream may
      // already be the current one; otherwise waiters still waiting need a new one, after a
      // pause so that a server ending every stream at once is not hammered.
      if (stream !== current) return;
      stream = undefined;
      if (waiters.size > 0) setTimeout(() => waiters.size > 0 && !stream && open(), 100);
    })();
  }

  /** The runs waited for in one tick travel in one message (20,000 futures: one message, not 20,000). */
  let toWatch: string[] = [];
  function watchLater(runId: string): void {
    if (toWatch.length === 0) {
      setImmediate(() => {
        const ids = toWatch.filter((id) => waiters.has(id));
        toWatch = [];
        if (ids.length > 0 && stream) stream.requests.push({ runIds: ids });
      });
    }
    toWatch.push(runId);
  }

  function settle(runId: string, fn: (waiter: { resolve: (run: TaskRun) => void; reject: (e: unknown) => void }) => void): void {
    const list = waiters.get(runId);
    if (!list) return;
    waiters.delete(runId);
    for (const waiter of list) fn(waiter);
    if (waiters.size === 0) scheduleClose();
  }

  function scheduleClose(): void {
    clearTimeout(lingerTimer);
    lingerTimer = setTimeout(() => {
      if (waiters.size === 0 && stream) {
        stream.requests.close();
        stream = undefined;
      }
    }, LINGER_MS);
  }

  return {
    whenFinal(runId, signal) {
      clearTimeout(lingerTimer);
      return new Promise<TaskRun>((resolve, reject) => {
        const waiter = { resolve, reject };
        const list = waiters.get(runId);
        if (list) list.push(waiter);
        else {
          waiters.set(runId, [waiter]);
          if (stream) watchLater(runId);
          else open();
        }
        signal?.addEventListener("abort", () => {
          const current = waiters.get(runId);
          if (!current?.includes(waiter)) return;
          current.splice(current.indexOf(waiter), 1);
          if (current.length === 0) {
            waiters.delete(runId);
            stream?.requests.push({ unwatchRunIds: [runId] });
            if (waiters.size === 0) scheduleClose();
          }
          reject(signal.reason);
        });
      });
    },
    close() {
      clearTimeout(lingerTimer);
      stream?.abort.abort();
      stream = undefined;
    },
  };
}
