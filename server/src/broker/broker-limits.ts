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
  maxPayloadBytes: 4 * 1024 * 1024 - 64 * 1024,
  defaultMaxRedeliveries: 5,
};
