import { describe, expect, it } from "vitest";
import { createStallDetector } from "../src/broker/stall-detector.js";

describe("createStallDetector", () => {
  it("reports how long a timer fired late beyond its tolerance, and 0 for ordinary jitter", () => {
    let at = 0;
    const stalls = createStallDetector({ intervalMs: 1_000, clock: () => at, toleranceMs: 100 });
    at = 1_030;
    expect(stalls.check()).toBe(0);
    at = 2_030 + 5_000;
    expect(stalls.check()).toBe(5_000);
    at = 8_030;
    expect(stalls.check()).toBe(0);
  });
});
