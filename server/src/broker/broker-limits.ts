import { DEFAULT_MAX_PAYLOAD_BYTES } from "../rpc/assignment-size.js";

export interface BrokerLimits {
  leaseDurationMs: number;
  heartbeatIntervalMs: number;
  /** An assignment not acknowledged (Started) within this goes back to the queue. */
  ackTimeoutMs: number;
  maxPayloadBytes: number;
  defaultMaxRedeliveries: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  leaseDurationMs: 30_000,
  heartbeatIntervalMs: 5_000,
  ackTimeoutMs: 15_000,
  // 4 MiB less room for the rest of an Assignment: one fits in a gRPC library's default
  // receive limit (see rpc/assignment-size.ts).
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  defaultMaxRedeliveries: 5,
};
