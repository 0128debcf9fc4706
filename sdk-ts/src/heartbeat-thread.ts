import { Worker as Thread } from "node:worker_threads";
import type { TaskwireClient } from "./taskwire-client.js";

export interface LeaseRefInit {
  runId: string;
  leaseToken: string;
}

export interface HeartbeatThread {
  /** A lease now held: the thread has it at the end of this turn, before a task may block the loop. */
  add(ref: LeaseRefInit): void;
  /** A lease that ended: left out of the thread's heartbeats soon (with the next addition at the latest). */
  remove(leaseToken: string): void;
  stop(): void;
}

/** What the main thread posts to the heartbeat thread: leases added, lease tokens removed. */
export interface LeaseChanges {
  /** runId, leaseToken, runId, leaseToken, …: flat, cheaper to post than objects. */
  added: string[];
  removed: string[];
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
  // Changes, not the whole list, and removals only along with additions or within a
  // quarter of the interval: posting all held leases at every change cost 6-11% of a worker's
  // CPU running short tasks. A lease heartbeated after it ended is refused, harmlessly.
  let changes: LeaseChanges = { added: [], removed: [] };
  let immediate: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;
  const post = () => {
    clearImmediate(immediate);
    clearTimeout(timer);
    immediate = timer = undefined;
    if (stopped) return;
    thread.postMessage(changes);
    changes = { added: [], removed: [] };
  };
  return {
    add({ runId, leaseToken }) {
      changes.added.push(runId, leaseToken);
      // Posted once per turn of the loop, however many runs started in it.
      immediate ??= setImmediate(post);
    },
    remove(leaseToken) {
      changes.removed.push(leaseToken);
      if (immediate || timer) return;
      timer = setTimeout(post, Math.min(1_000, options.intervalMs / 4));
      timer.unref();
    },
    stop() {
      stopped = true;
      clearImmediate(immediate);
      clearTimeout(timer);
      void thread.terminate();
    },
  };
}
