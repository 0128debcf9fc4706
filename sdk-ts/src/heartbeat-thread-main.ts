// The body of the heartbeat thread (see heartbeat-thread.ts): every interval, one
// WorkerService.Heartbeat call with the leases the main thread last reported.
import { parentPort, workerData } from "node:worker_threads";
import type { LeaseChanges } from "./heartbeat-thread.js";
import { createTaskwireClient } from "./taskwire-client.js";

const { apiUrl, apiKey, tlsCaFile, sessionId, intervalMs } = workerData as {
  apiUrl: string;
  apiKey?: string;
  tlsCaFile?: string;
  sessionId: string;
  intervalMs: number;
};
const client = createTaskwireClient({ apiUrl, apiKey: apiKey ?? "", tlsCaFile });
/** The leases held: run id by lease token. */
const held = new Map<string, string>();
parentPort?.on("message", ({ added, removed }: LeaseChanges) => {
  // Added first: a run that started and ended between two posts is in both.
  for (let i = 0; i < added.length; i += 2) held.set(added[i + 1], added[i]);
  for (const token of removed) held.delete(token);
});

/** One heartbeat; it never rejects: every error is caught here. */
async function beat(): Promise<void> {
  try {
    const runs = [...held].map(([leaseToken, runId]) => ({ runId, leaseToken }));
    const { refused } = await client.workers.heartbeat({ sessionId, runs }, { timeoutMs: intervalMs * 2 });
    if (refused.length > 0) {
      parentPort?.postMessage({ refused: refused.map((ack) => ({ runId: ack.runId, leaseToken: ack.leaseToken, reason: ack.reason })) });
    }
  } catch {
    // The stream is gone or the server unreachable: the main thread reconnects and starts
    // a new heartbeat thread for its new stream.
  }
}

// beat() cannot reject (see above); nothing is lost by not awaiting it.
setInterval(() => void beat(), intervalMs);
