import { describe, expect, it } from "vitest";
import { createOutboundQueue } from "../src/rpc/outbound-queue.js";

describe("createOutboundQueue", () => {
  it("counts unsent bytes until the transport takes each message, and says when they fall low", async () => {
    let lows = 0;
    const queue = createOutboundQueue<string>({ maxBytes: 1_000, lowBytes: 100, onLow: () => lows++ });
    const reader = queue[Symbol.asyncIterator]();
    expect(queue.push("a", 300)).toBe(true);
    expect(queue.push("b", 300)).toBe(true);
    expect(queue.unsentBytes).toBe(600);
    // Past maxBytes: refused, nothing queued.
    expect(queue.push("c", 500)).toBe(false);
    expect(queue.unsentBytes).toBe(600);
    expect(await reader.next()).toEqual({ value: "a", done: false });
    expect([queue.unsentBytes, lows]).toEqual([300, 0]);
    expect(await reader.next()).toEqual({ value: "b", done: false });
    expect([queue.unsentBytes, lows]).toEqual([0, 1]);
    queue.close();
    expect((await reader.next()).done).toBe(true);
  });

  it("drops what it holds when failed, and ends with the error", async () => {
    const queue = createOutboundQueue<string>({ maxBytes: 1_000, lowBytes: 100, onLow: () => {} });
    queue.push("a", 400);
    queue.fail(new Error("not reading"));
    expect(queue.unsentBytes).toBe(0);
    await expect(queue[Symbol.asyncIterator]().next()).rejects.toThrow("not reading");
  });

  it("sends what it holds before ending with the error it was closed with", async () => {
    const queue = createOutboundQueue<string>({ maxBytes: 1_000, lowBytes: 100, onLow: () => {} });
    const reader = queue[Symbol.asyncIterator]();
    queue.push("a", 10);
    expect(await reader.next()).toEqual({ value: "a", done: false });
    // Queued while the transport still held "a": the answers to the last messages read.
    queue.push("b", 10);
    queue.push("c", 10);
    queue.close(new Error("a second Hello"));
    queue.push("d", 10);
    expect(await reader.next()).toEqual({ value: "b", done: false });
    expect(await reader.next()).toEqual({ value: "c", done: false });
    await expect(reader.next()).rejects.toThrow("a second Hello");
  });
});
