import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createEarliestTimer } from "../src/broker/earliest-timer.js";

describe("createEarliestTimer", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires once, at the earliest time asked for; a later time does not move it", async () => {
    const fired: [number, number][] = [];
    const timer = createEarliestTimer(Date.now, (at) => fired.push([at, Date.now()]));
    timer.noLaterThan(5_000);
    timer.noLaterThan(2_000);
    timer.noLaterThan(3_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fired).toEqual([[2_000, 2_000]]);
    // Fired: unset until asked again.
    timer.noLaterThan(12_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toEqual([[2_000, 2_000], [12_000, 12_000]]);
    timer.close();
  });

  it("waits for a time past setTimeout's limit (24.8 days) in steps, without firing early", async () => {
    const fired: number[] = [];
    const timer = createEarliestTimer(Date.now, (at) => fired.push(at));
    const in30Days = 30 * 24 * 3_600_000;
    timer.noLaterThan(in30Days);
    await vi.advanceTimersByTimeAsync(in30Days - 1_000_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000_000);
    expect(fired).toEqual([in30Days]);
    timer.close();
  });

  it("fires no more once closed", async () => {
    const fired: number[] = [];
    const timer = createEarliestTimer(Date.now, (at) => fired.push(at));
    timer.noLaterThan(1_000);
    timer.close();
    timer.noLaterThan(500);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(fired).toEqual([]);
  });
});
