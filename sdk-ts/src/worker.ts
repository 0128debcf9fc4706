import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { createAsyncQueue } from "./async-queue.js";
import { refusalOf } from "./server-refusal.js";
import { defaultClient } from "./default-client.js";
import { describeError, type ErrorDescription } from "./error-info.js";
import { AckKind, type Assignment, type SubscribeTaskRunsRequestSchema } from "@taskwire/proto";
import { encodeJson, JSON_CONTENT_TYPE } from "./json-payload.js";
import { RunCancelledError, RunTimeoutError } from "./run-abort-reasons.js";
import { taskArguments } from "./task-arguments.js";
import { withRunContext } from "./run-context.js";
import { SDK_VERSION } from "./sdk-version.js";
import { isServerUnreachable } from "./server-unreachable-error.js";
import type { AnyTask } from "./task.js";
import { createTaskwireClient, type TaskwireClient } from "./taskwire-client.js";
import { type HeartbeatThread, startHeartbeatThread } from "./heartbeat-thread.js";
import { createWorkerOutbox, type WorkerOutbox } from "./worker-outbox.js";
import type { Worker, WorkerOptions } from "./worker-types.js";

export type { Worker, WorkerOptions } from "./worker-types.js";

interface ActiveRun {
  assignment: Assignment;
  connection: Connection;
  /** Aborts the run's signal (made only if the task asks for it); a cancel or timeout also fails it. */
  abort(reason: unknown): void;
  /** Set once the outcome was reported (or must not be): later outcomes are dropped. */
  settled: boolean;
}

interface Connection {
  outbox: WorkerOutbox;
  close(): void;
  abort: AbortController;
  /** Lease tokens of results sent and not yet acknowledged as durable. */
  unacked: Set<string>;
  draining: boolean;
  heartbeats?: HeartbeatThread;
  /** Heartbeats on the stream, only when the heartbeat thread could not run. */
  heartbeatTimer?: NodeJS.Timeout;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Creates a worker for these tasks. `serve()` is the usual way to run one; this is for
 * embedding a worker in a process that does other things.
 *
 * @example
 * const worker = createWorker({ tasks: [greet], limit: 5 });
 * void worker.start();
 * // …
 * await worker.stop();
 */
export function createWorker(options: WorkerOptions): Worker {
  const tasks = new Map<string, AnyTask>();
  for (const t of options.tasks) tasks.set(t.taskKey, t);
  if (tasks.size === 0) throw new TypeError("a worker needs at least one task");
  const client = options.client ?? defaultClient();
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number >= 1, got ${limit}`);
  const graceMs = options.graceMs ?? 10_000;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = options.log ?? ((message: string) => process.stderr.write(`taskwire: ${message}\n`));
  const active = new Map<string, ActiveRun>();
  let connection: Connection | undefined;
  /** The stream being opened or open, Welcome or not: stop() ends it if no Welcome came. */
  let attempt: Connection | undefined;
  let stopping = false;
  let wakeBackoff: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  // Several servers: the first connect goes to the first, each reconnect to the next, so a
  // server that died is left at once (list them in another order to spread workers).
  const servers = new Map<string, TaskwireClient>();
  let turn = 0;
  let current = client;
  const nextServer = (): TaskwireClient => {
    if (client.apiUrls.length < 2) return client;
    const apiUrl = client.apiUrls[turn++ % client.apiUrls.length];
    // The given client already talks to the first: no second connection to it.
    if (apiUrl === client.apiUrl) return client;
    let next = servers.get(apiUrl);
    if (!next) {
      const { apiKey, tlsCaFile } = client.connection;
      next = createTaskwireClient({ apiUrl, apiKey: apiKey ?? "", tlsCaFile });
      servers.set(apiUrl, next);
    }
    return next;
  };

  /** Whoever waits in `until` for the runs or acks to change; woken on every change. */
  const waiting = new Set<() => void>();
  const notify = () => {
    for (const wake of waiting) wake();
  };
  const until = async (condition: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!condition() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, deadline - Date.now());
        function wake() {
          clearTimeout(timer);
          waiting.delete(wake);
          resolve();
        }
        waiting.add(wake);
      });
    }
    return condition();
  };

  async function connectOnce(): Promise<void> {
    const server = nextServer();
    current = server;
    const requests = createAsyncQueue<MessageInitShape<typeof SubscribeTaskRunsRequestSchema>>();
    const abort = new AbortController();
    const conn: Connection = {
      outbox: createWorkerOutbox(requests),
      close: () => requests.close(),
      abort,
      unacked: new Set(),
      draining: false,
    };
    attempt = conn;
    requests.push({
      message: {
        case: "hello",
        value: {
          protocolVersion: 1,
          workerId,
          taskKeys: [...tasks.keys()],
          limit,
          language: "typescript",
          sdkVersion: SDK_VERSION,
          hostname: hostname(),
          pid: process.pid,
        },
      },
    });
    try {
      for await (const response of server.workers.subscribeTaskRuns(requests, { signal: abort.signal })) {
        const message = response.message;
        switch (message.case) {
          case "welcome":
            connection = conn;
            log(`worker ${workerId} serving ${[...tasks.keys()].join(", ")} (limit ${limit}) at ${server.apiUrl}`);
            conn.heartbeats = startHeartbeatThread({
              client: server,
              sessionId: message.value.sessionId,
              intervalMs: message.value.heartbeatIntervalMs || 5_000,
              onRefused: (runId, leaseToken, reason) => {
                // A run that ended since: its lease leaves the thread's list a little later.
                if (active.get(runId)?.assignment.leaseToken === leaseToken) onAck(conn, runId, leaseToken, AckKind.HEARTBEAT, false, reason);
              },
              onFailure: (error) => {
                // Without its thread, heartbeats go on the stream: a busy task can delay them.
                log(`heartbeat thread failed (${error.message}); heartbeats go on the stream instead`);
                conn.heartbeatTimer ??= setInterval(() => conn.outbox.heartbeat(heldBy(conn)), message.value.heartbeatIntervalMs || 5_000);
              },
            });
            for (const ref of heldBy(conn)) conn.heartbeats.add(ref);
            if (stopping) beginDrain(conn);
            break;
          case "assignments":
            for (const assignment of message.value.assignments) {
              // Sent before the server heard this worker's Drain: handed back at once (a
              // release uses up no redelivery), the stream kept open until it is acknowledged.
              if (conn.draining) handBack(assignment, conn);
              else void execute(assignment, conn);
            }
            break;
          case "cancel":
            for (const runId of message.value.runIds) {
              active.get(runId)?.abort(new RunCancelledError(message.value.reason || "cancelled"));
            }
            break;
          case "acks":
            for (const ack of message.value.acks) onAck(conn, ack.runId, ack.leaseToken, ack.kind, ack.accepted, ack.reason);
            notify();
            break;
          case "drain":
            beginDrain(conn);
            break;
        }
      }
    } finally {
      conn.heartbeats?.stop();
      clearInterval(conn.heartbeatTimer);
      if (connection === conn) connection = undefined;
      if (attempt === conn) attempt = undefined;
      // The server re-queues what this stream held; results from it would be refused now.
      for (const run of active.values()) {
        if (run.connection === conn && !run.settled) {
          run.settled = true;
          run.abort(new Error("the connection to the server was lost; the run is redelivered"));
        }
      }
      notify();
    }
  }

  /** The leases this connection holds now. */
  function heldBy(conn: Connection) {
    return [...active.values()]
      .filter((run) => run.connection === conn && !run.settled)
      .map((run) => ({ runId: run.assignment.runId, leaseToken: run.assignment.leaseToken }));
  }

  function beginDrain(conn: Connection): void {
    if (conn.draining) return;
    conn.draining = true;
    conn.outbox.drain();
    void (async () => {
      await until(() => ![...active.values()].some((run) => run.connection === conn && !run.settled), graceMs);
      for (const run of active.values()) {
        if (run.connection !== conn || run.settled) continue;
        run.settled = true;
        run.abort(new Error("the worker is shutting down; the run was handed back"));
        handBack(run.assignment, conn);
      }
      // Only close once every result is durable, or it could be lost with the stream.
      await until(() => conn.unacked.size === 0, 5_000);
      conn.close();
    })();
  }

  function handBack({ runId, leaseToken }: Assignment, conn: Connection): void {
    conn.unacked.add(leaseToken);
    conn.outbox.released({ runId, leaseToken });
  }

  function onAck(conn: Connection, runId: string, leaseToken: string, kind: AckKind, accepted: boolean, reason: string): void {
    if (kind === AckKind.COMPLETED || kind === AckKind.FAILED || kind === AckKind.RELEASED) conn.unacked.delete(leaseToken);
    if (accepted) return;
    // Matched by lease token: the same run may be here again under a newer lease.
    const run = active.get(runId);
    if (run && run.assignment.leaseToken === leaseToken && !run.settled && (kind === AckKind.STARTED || kind === AckKind.HEARTBEAT)) {
      run.settled = true;
      run.abort(new Error(`the server took the run back: ${reason}`));
    }
    if (!run) log(`server refused a message about run ${runId}: ${reason}`);
  }

  async function execute(assignment: Assignment, conn: Connection): Promise<void> {
    const { runId, leaseToken } = assignment;
    // The AbortController is made only when the task reads its signal: one per run cost 4%
    // of a worker's CPU running short tasks, and most tasks never look at it.
    let controller: AbortController | undefined;
    let aborted: { reason: unknown } | undefined;
    const signal = (): AbortSignal => {
      if (!controller) {
        controller = new AbortController();
        if (aborted) controller.abort(aborted.reason);
      }
      return controller.signal;
    };
    const run: ActiveRun = {
      assignment,
      connection: conn,
      settled: false,
      abort(reason) {
        if (aborted) return;
        aborted = { reason };
        // A cancel or a timeout is reported at once, whether or not the task heeds its signal.
        if (reason instanceof RunCancelledError || reason instanceof RunTimeoutError) fail(describeError(reason));
        controller?.abort(reason);
      },
    };
    active.set(runId, run);
    conn.outbox.started({ runId, leaseToken });
    conn.heartbeats?.add({ runId, leaseToken });

    const fail = (error: ErrorDescription) => {
      if (run.settled) return;
      run.settled = true;
      conn.unacked.add(leaseToken);
      conn.outbox.failed({ runId, leaseToken, error });
    };
    const timer =
      assignment.timeoutMs > 0 ? setTimeout(() => run.abort(new RunTimeoutError(assignment.timeoutMs)), assignment.timeoutMs) : undefined;

    const t = tasks.get(assignment.taskKey);
    try {
      // Let the Started ack and the heartbeat thread's lease list leave first (both go out
      // at the end of this turn): a task that then blocks the event loop cannot hold them back.
      await new Promise((resolve) => setImmediate(resolve));
      // Cancelled, timed out or taken back meanwhile: do not start it at all.
      if (run.settled) return;
      if (!t) throw Object.assign(new Error(`this worker does not serve task ${assignment.taskKey}`), { name: "UnknownTask" });
      const args = taskArguments(assignment, t.options.parameterNames);
      const context = {
        runId,
        taskKey: assignment.taskKey,
        attempt: assignment.attempt,
        get signal() {
          return signal();
        },
        log: (text: string, level = "info") => {
          if (!run.settled) conn.outbox.log({ runId, leaseToken, time: timestampFromMs(Date.now()), level, message: text });
        },
      };
      const value = await withRunContext(context, t.options.logPrints ?? false, () => t.fn(...args));
      if (!run.settled) {
        const data = encodeJson(value, "result");
        run.settled = true;
        conn.unacked.add(leaseToken);
        conn.outbox.completed({ runId, leaseToken, result: { contentType: JSON_CONTENT_TYPE, data } });
      }
    } catch (error) {
      const description = describeError(error);
      if (description.type === "UnserializableValueError") description.retryable = false;
      fail(description);
    } finally {
      clearTimeout(timer);
      // Only this attempt's entry: a later attempt of the same run may have replaced it.
      if (active.get(runId) === run) active.delete(runId);
      conn.heartbeats?.remove(leaseToken);
      notify();
    }
  }

  async function runLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      const began = Date.now();
      try {
        await connectOnce();
      } catch (error) {
        if (stopping) break;
        const refusal = refusalOf(error, current.apiUrl, "the worker");
        // start() rejects with it (and so serve()): whoever started the worker reports it.
        if (refusal) throw refusal;
        log(
          isServerUnreachable(error)
            ? (error as ConnectError).rawMessage
            : `cannot reach the taskwire server at ${current.apiUrl}: ${(error as Error).message}`,
        );
      }
      if (stopping) break;
      failures = Date.now() - began > 10_000 ? 1 : failures + 1;
      const delay = Math.min(100 * 2 ** failures, MAX_BACKOFF_MS) * (0.75 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        wakeBackoff = resolve;
        setTimeout(resolve, delay);
      });
    }
  }

  return {
    workerId,
    get running() {
      return active.size;
    },
    start() {
      loop ??= runLoop();
      return loop;
    },
    async stop() {
      stopping = true;
      wakeBackoff?.();
      const conn = connection;
      if (conn) {
        beginDrain(conn);
        await until(() => connection !== conn, graceMs + 10_000);
        // A server that never ends the stream (a half-open connection) must not hold us up.
        conn.abort.abort();
      } else {
        // No Welcome yet (the server is slow, or not there): no run is held, nothing to drain.
        attempt?.abort.abort();
      }
      for (const run of active.values()) run.abort(new Error("the worker stopped"));
      // Why start() failed is start()'s to report; stop() only waits for the end.
      await loop?.catch(() => undefined);
      // The connections this worker opened to the other servers; the given client is the caller's.
      for (const other of servers.values()) other.close();
    },
  };
}
