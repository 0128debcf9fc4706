import { describe, expect, it } from "vitest";
import { retryDelayMs, shouldRetry } from "../src/broker/retry-policy.js";
import type { RunOptions } from "../src/store/store.js";

const options = (over: Partial<RunOptions>): RunOptions => ({
  retries: 3,
  retryDelaySeconds: [],
  retryJitterFactor: 0,
  timeoutSeconds: 0,
  priority: 0,
  idempotencyKey: "",
  tags: [],
  maxRedeliveries: 5,
  ...over,
});

describe("retry policy", () => {
  it("takes the delays in turn, the last one repeating", () => {
    const o = options({ retryDelaySeconds: [1, 10] });
    expect([0, 1, 2, 3].map((used) => retryDelayMs(o, used))).toEqual([1000, 10_000, 10_000, 10_000]);
  });

  it("spreads each delay by the jitter factor, both ways", () => {
    const o = options({ retryDelaySeconds: [10], retryJitterFactor: 0.2 });
    expect(retryDelayMs(o, 0, () => 0)).toBe(8000);
    expect(retryDelayMs(o, 0, () => 1)).toBe(12_000);
    expect(retryDelayMs(o, 0, () => 0.5)).toBe(10_000);
  });

  it("retries only retryable errors, and only while retries are left", () => {
    const o = options({ retries: 2 });
    expect(shouldRetry(o, 0, true)).toBe(true);
    expect(shouldRetry(o, 2, true)).toBe(false);
    expect(shouldRetry(o, 0, false)).toBe(false);
  });
});
