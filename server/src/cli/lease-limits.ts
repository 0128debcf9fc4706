import type { BrokerLimits } from "../broker/broker-limits.js";

/**
 * The broker's lease timings derived from one lease duration: workers heartbeat every
 * sixth of it (so five heartbeats can be lost before the lease runs out) and must
 * acknowledge an assignment within half of it. 30000 gives today's 30 s / 5 s / 15 s.
 *
 * @example
 * ```ts
 * leaseLimits(3000); // { leaseDurationMs: 3000, heartbeatIntervalMs: 500, ackTimeoutMs: 1500 }
 * ```
 */
export function leaseLimits(
  leaseDurationMs: number,
): Pick<BrokerLimits, "leaseDurationMs" | "heartbeatIntervalMs" | "ackTimeoutMs"> {
  return {
    leaseDurationMs,
    heartbeatIntervalMs: Math.max(1, Math.round(leaseDurationMs / 6)),
    ackTimeoutMs: Math.max(1, Math.round(leaseDurationMs / 2)),
  };
}
