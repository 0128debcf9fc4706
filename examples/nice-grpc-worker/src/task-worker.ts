import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type Channel, createClient, Metadata } from "nice-grpc";
import type { ErrorInfo } from "./gen/taskwire/v1/task_run.js";
import {
  AckKind,
  type Assignment,
  type DeepPartial,
  type SubscribeTaskRunsRequest,
  WorkerServiceDefinition,
} from "./gen/taskwire/v1/worker_service.js";
import { decodeArgs, encodeResult } from "./json-payload.js";
import { createRequestQueue, type RequestQueue } from "./request-queue.js";

/** A task as this worker runs it: positional arguments in, a JSON-able value out. */
export type TaskFunction = (args: unknown[], signal: AbortSignal) => unknown;

export interface TaskWorkerOptions {
  channel: Channel;
  /** Task key → function. */
  tasks: Record<string, TaskFunction>;
  /** Runs in flight at most (sent in Hello; the server never assigns more). */
  limit: number;
  /** On stop, how long runs in flight may take before they are Released. */
  graceMs: number;
  /** Sent as `authorization: Bearer <key>` when set. */
  apiKey?: string;
  workerId?: string;
  /** Connects, disconnects, refusals; default stderr. */
  log?: (message: string) => void;
  /** Called on each Welcome: the worker is connected and may receive runs. */
  onServing?: (taskKeys: string[]) => void;
}

/** A task worker on one `SubscribeTaskRuns` stream, reconnecting until stopped. */
export interface TaskWorker {
  readonly workerId: string;
  /** Connects and serves until stop() has finished; resolves then. */
  run(): Promise<void>;
  /** Sends Drain, lets runs finish for up to graceMs, Releases the rest, closes the stream. */
  stop(): void;
  /** Ends the stream at once (a second Ctrl-C): the server re-queues what it held. */
  kill(): void;
}

interface Session {
  requests: RequestQueue<DeepPartial<SubscribeTaskRunsRequest>>;
  abort: AbortController;
  draining: boolean;
  /** Results (Completed, Failed, Released) sent and not yet acknowledged as durable. */
  unacked: Set<string>;
}

interface ActiveRun {
  assignment: Assignment;
  session: Session;
  abort: AbortController;
  /** The outcome was reported, or must not be (the lease is gone): later outcomes are dropped. */
  settled: boolean;
}

/** Why a run's signal fired; decides what, if anything, is reported for it. */
class RunCancelled extends Error {
  override name = "Cancelled";
  readonly retryable = false;
}
class RunTimedOut extends Error {
  override name = "TimeoutError";
}

const PROTOCOL_VERSION = 1;
const MAX_BACKOFF_MS = 5_000;

export function createTaskWorker(options: TaskWorkerOptions): TaskWorker {
  const taskKeys = Object.keys(options.tasks);
  if (taskKeys.length === 0) throw new TypeError("a worker needs at least one task");
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a whole number >= 1, got ${options.limit}`);
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = options.log ?? ((message: string) => process.stderr.write(`nice-grpc-worker: ${message}\n`));
  const metadata = Metadata();
  if (options.apiKey) metadata.set("authorization", `Bearer ${options.apiKey}`);
  const client = createClient(WorkerServiceDefinition, options.channel, { "*": { metadata } });
  const active = new Map<string, ActiveRun>();
  let session: Session | undefined;
  let stopping = false;
  let wakeBackoff: (() => void) | undefined;
  const waiters = new Set<() => void>();

  const changed = () => {
    for (const wake of waiters) wake();
  };
  /** Resolves once `condition` holds or `ms` passed; re-checked whenever a run or ack changes. */
  async function until(condition: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, deadline - Date.now());
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }
  const unsettledRuns = (of: Session) => [...active.values()].filter((run) => run.session === of && !run.settled);

  async function serveOnce(): Promise<void> {
    const current: Session = { requests: createRequestQueue(), abort: new AbortController(), draining: false, unacked: new Set() };
    const send = (message: DeepPartial<SubscribeTaskRunsRequest>["message"]) => current.requests.push({ message });
    send({
      $case: "hello",
      value: {
        protocolVersion: PROTOCOL_VERSION,
        workerId,
        taskKeys,
        limit: options.limit,
        language: "typescript",
        sdkVersion: "nice-grpc-worker/0.1.0",
        hostname: hostname(),
        pid: process.pid,
      },
    });
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      for await (const response of client.subscribeTaskRuns(current.requests, { signal: current.abort.signal })) {
        const message = response.message;
        switch (message?.$case) {
          case "welcome":
            session = current;
            failures = 0;
            options.onServing?.(taskKeys);
            // One Heartbeat covers every run this stream holds.
            heartbeat = setInterval(() => {
              const runs = unsettledRuns(current).map(({ assignment }) => ({ runId: assignment.runId, leaseToken: assignment.leaseToken }));
              if (runs.length > 0) send({ $case: "heartbeat", value: { runs } });
            }, message.value.heartbeatIntervalMs || 5_000);
            if (stopping) void drain(current);
            break;
          case "assignments":
            for (const assignment of message.value.assignments) void execute(assignment, current);
            break;
          case "cancel":
            for (const runId of message.value.runIds) {
              active.get(runId)?.abort.abort(new RunCancelled(message.value.reason || "cancelled"));
            }
            break;
          case "acks":
            for (const ack of message.value.acks) {
              if (ack.kind === AckKind.ACK_KIND_COMPLETED || ack.kind === AckKind.ACK_KIND_FAILED || ack.kind === AckKind.ACK_KIND_RELEASED) {
                current.unacked.delete(ack.runId);
              }
              if (ack.accepted) continue;
              const run = active.get(ack.runId);
              // A refused Started or Heartbeat: the lease is gone, so stop the work and report nothing.
              if (run && !run.settled && (ack.kind === AckKind.ACK_KIND_STARTED || ack.kind === AckKind.ACK_KIND_HEARTBEAT)) {
                run.settled = true;
                run.abort.abort(new Error(`the server took the run back: ${ack.reason}`));
              }
              log(`the server refused a message about run ${ack.runId}: ${ack.reason}`);
            }
            changed();
            break;
          case "drain":
            void drain(current);
            break;
        }
      }
    } finally {
      clearInterval(heartbeat);
      if (session === current) session = undefined;
      // The server re-queues what this stream held; results sent now would be refused.
      for (const run of unsettledRuns(current)) {
        run.settled = true;
        run.abort.abort(new Error("the stream to the server ended; the run is redelivered"));
      }
      changed();
    }
  }

  async function execute(assignment: Assignment, on: Session): Promise<void> {
    const { runId, leaseToken } = assignment;
    const run: ActiveRun = { assignment, session: on, abort: new AbortController(), settled: false };
    active.set(runId, run);
    const send = (message: DeepPartial<SubscribeTaskRunsRequest>["message"]) => on.requests.push({ message });
    send({ $case: "started", value: { runs: [{ runId, leaseToken }] } });
    const report = (outcome: "completed" | "failed", value: unknown) => {
      if (run.settled) return;
      run.settled = true;
      on.unacked.add(runId);
      if (outcome === "completed") send({ $case: "completed", value: { results: [{ runId, leaseToken, result: encodeResult(value) }] } });
      else send({ $case: "failed", value: { failures: [{ runId, leaseToken, error: errorInfo(value) }] } });
      changed();
    };
    // A cancel or timeout is reported at once, whether or not the task heeds its signal.
    run.abort.signal.addEventListener("abort", () => {
      const reason: unknown = run.abort.signal.reason;
      if (reason instanceof RunCancelled || reason instanceof RunTimedOut) report("failed", reason);
    });
    const timer =
      assignment.timeoutMs > 0
        ? setTimeout(() => run.abort.abort(new RunTimedOut(`the attempt exceeded its timeout of ${assignment.timeoutMs / 1000}s`)), assignment.timeoutMs)
        : undefined;
    try {
      const task = options.tasks[assignment.taskKey];
      if (!task) throw Object.assign(new Error(`this worker does not serve task ${assignment.taskKey}`), { name: "UnknownTask" });
      const value = await task(decodeArgs(assignment.parameters), run.abort.signal);
      report("completed", value);
    } catch (error) {
      report("failed", error);
    } finally {
      clearTimeout(timer);
      active.delete(runId);
      changed();
    }
  }

  async function drain(of: Session): Promise<void> {
    if (of.draining) return;
    of.draining = true;
    of.requests.push({ message: { $case: "drain", value: {} } });
    await until(() => unsettledRuns(of).length === 0, options.graceMs);
    const leftover = unsettledRuns(of);
    for (const run of leftover) {
      run.settled = true;
      run.abort.abort(new Error("the worker is shutting down; the run was handed back"));
      of.unacked.add(run.assignment.runId);
    }
    if (leftover.length > 0) {
      const runs = leftover.map(({ assignment }) => ({ runId: assignment.runId, leaseToken: assignment.leaseToken }));
      of.requests.push({ message: { $case: "released", value: { runs } } });
      log(`released ${runs.length} run(s) that did not finish within ${options.graceMs} ms`);
    }
    // Close only once every result is durable, or it could be lost with the stream.
    await until(() => of.unacked.size === 0, 5_000);
    of.requests.close();
  }

  let failures = 0;
  async function run(): Promise<void> {
    while (!stopping) {
      try {
        await serveOnce();
      } catch (error) {
        if (!stopping) log(`the stream to the server failed: ${(error as Error).message}`);
      }
      if (stopping) break;
      failures++;
      const delay = Math.min(100 * 2 ** failures, MAX_BACKOFF_MS) * (0.75 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        wakeBackoff = resolve;
        setTimeout(resolve, delay);
      });
    }
  }

  let running: Promise<void> | undefined;
  return {
    workerId,
    run() {
      running ??= run();
      return running;
    },
    stop() {
      stopping = true;
      wakeBackoff?.();
      if (session) void drain(session);
    },
    kill() {
      stopping = true;
      wakeBackoff?.();
      session?.abort.abort();
    },
  };
}

function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const retryable = (error as { retryable?: unknown }).retryable;
    return { type: error.name, message: error.message, stack: error.stack ?? "", retryable: retryable !== false };
  }
  return { type: "Error", message: String(error), stack: "", retryable: true };
}
