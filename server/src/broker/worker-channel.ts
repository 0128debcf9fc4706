import type { RunRecord } from "../store/store.js";

/**
 * The contract between the broker and one worker's stream: what the broker sends (through
 * a WorkerChannel) and how it names leases and acknowledgements. The RPC layer turns these
 * into SubscribeTaskRuns messages.
 */

/** How the broker talks to one connected worker; the RPC layer turns these into messages. */
export interface WorkerChannel {
  assign(runs: LeasedRun[]): void;
  ack(acks: LeaseAck[]): void;
  cancel(runIds: string[], reason: string): void;
  drain(graceMs: number): void;
  /** Bytes queued on the stream and not sent yet: a worker not reading its stream keeps them. */
  readonly unsentBytes: number;
}

export interface LeasedRun {
  run: RunRecord;
  leaseToken: string;
  leaseDeadline: number;
}

export type AckKind = "STARTED" | "HEARTBEAT" | "COMPLETED" | "FAILED" | "RELEASED" | "LOG";

export interface LeaseAck {
  runId: string;
  leaseToken: string;
  kind: AckKind;
  accepted: boolean;
  reason: string;
}

export interface LeaseRef {
  runId: string;
  leaseToken: string;
}

export interface WorkerInfo {
  workerId: string;
  taskKeys: string[];
  limit: number;
  /** From Hello, for ListWorkers. */
  language?: string;
  sdkVersion?: string;
  hostname?: string;
  pid?: number;
}

export interface WorkerSession extends WorkerInfo {
  readonly sessionId: string;
}
