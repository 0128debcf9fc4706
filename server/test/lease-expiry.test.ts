import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLeaseExpiry } from "../src/broker/lease-expiry.js";

const logger = pino({ level: "silent" });

describe("createLeaseExpiry", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(localNext: () => number) {
    const reads: number[] = [];
    const events: string[] = [];
    const expiry = createLeaseExpiry({
      store: {
        async nextLeaseDeadline() {
          return undefined;
        },
      },
      serverId: "s1",
      clock: Date.now,
      logger,
      peerCheckMs: 30_000,
      localNext,
      onStall(stalledMs, then) {
        events.push(`stall ${stalledMs}`);
        then();
      },
      async requeue(at) {
        reads.push(at);
        events.push("read");
        return 0;
      },
    });
    return { reads, events, expiry };
  }

  it("re-queues once at start, then only at the next deadline or the peer check", async () => {
    let local = 5_000;
    const { reads, expiry } = setup(() => local);
    await vi.advanceTimersByTimeAsync(10);
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(reads).toHaveLength(1);
    local = Number.POSITIVE_INFINITY;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toHaveLength(2);
    expect(reads[1]).toBeGreaterThanOrEqual(5_000);
    // No lease of its own: the next read is the peer check, a lease duration later.
    await vi.advanceTimersByTimeAsync(29_000);
    expect(reads).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toHaveLength(3);
    expect(reads[2]).toBeGreaterThanOrEqual(35_000);
    expiry.close();
  });

  it("after a stall, moves its own leases on before it re-queues what expired", async () => {
    const { events, expiry } = setup(() => 1_000);
    await vi.advanceTimersByTimeAsync(10);
    events.length = 0;
    // The process stood still: the clock jumps past the deadline before the timer runs.
    vi.setSystemTime(6_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events[0]).toMatch(/^stall \d+$/);
    expect(Number(events[0].split(" ")[1])).toBeGreaterThanOrEqual(4_900);
    expect(events[1]).toBe("read");
    expiry.close();
  });
});
