import { Worker as Thread } from "node:worker_threads";
import type { TaskwireClient } from "./taskwire-client.js";

export interface LeaseRefInit {
  runId: string;
  leaseToken: string;
}

export interface HeartbeatThread {
  /** The leases held changed; `current` lists them, read once at the end of this turn. */
  update(current: () => LeaseRefInit[]): void;
  stop(): void;
}

export interface HeartbeatThreadOptions {
  client: TaskwireClient;
  sessionId: string;
  intervalMs: number;
  /** A lease the server would not extend: the run is no longer this worker's. */
  onRefused(runId: string, leaseToken: string, reason: string): void;
  /** The thread could not start or died: heartbeats must come from elsewhere. */
  onFailure(error: Error): void;
}

/**
 * Heartbeats from a thread of their own, on a connection of their own: a task that keeps
 * Node's event loop busy (a long synchronous computation) cannot starve them, so its lease
 * holds. A process that is stopped altogether (SIGSTOP, a hung host) sends none, and its
 * leases expire as they should.
 */
export function startHeartbeatThread(options: HeartbeatThreadOptions): HeartbeatThread {
  const thread = new Thread(new URL("./heartbeat-thread-main.js", import.meta.url), {
    workerData: { ...options.client.connection, sessionId: options.sessionId, intervalMs: options.intervalMs },
  });
  // Never the reason a process stays up.
  thread.unref();
  thread.on("message", (message: { refused: { runId: string; leaseToken: string; reason: string }[] }) => {
    for (const { runId, leaseToken, reason } of message.refused) options.onRefused(runId, leaseToken, reason);
  });
  let stopped = false;
  thread.on("error", (error) => options.onFailure(error));
  thread.on("exit", (code) => {
    if (!stopped && code !== 0) options.onFailure(new Error(`the heartbeat thread exited with code ${code}`));
  });
  let latest: () => LeaseRefInit[] = () => [];
  let queued = false;
  return {
    update(current) {
      latest = current;
      // Posted once per turn of the loop, however many runs changed in it.
      if (queued) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        thread.postMessage(latest());
      });
    },
    stop() {
      stopped = true;
      void thread.terminate();
    },
  };
}
