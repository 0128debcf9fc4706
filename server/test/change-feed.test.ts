import { describe, expect, it } from "vitest";
import { createLocalChangeFeed, decodeChanges, encodeChanges, MAX_CHANGE_PAYLOAD_BYTES } from "../src/store/change-feed.js";

describe("change feed payloads", () => {
  it("split a commit's changes into payloads under PostgreSQL's 8,000-byte NOTIFY limit, and read back whole", () => {
    const changed = Array.from({ length: 2_000 }, (_, i) => `01a2282d-3824-7424-a901-${String(i).padStart(12, "0")}`);
    const cancels = [{ runId: "r1", reason: "x".repeat(20_000) }];
    const payloads = encodeChanges("server-a", { due: ["greet", "pay"], changed, cancels, wakeAt: 42, limits: true });
    expect(payloads.length).toBeGreaterThan(5);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_CHANGE_PAYLOAD_BYTES);
    const read = payloads.map((p) => decodeChanges("server-b", p));
    expect(read.flatMap((c) => c?.changed ?? [])).toEqual(changed);
    expect(read.flatMap((c) => c?.due ?? [])).toEqual(["greet", "pay"]);
    expect(read.find((c) => c?.wakeAt !== undefined)?.wakeAt).toBe(42);
    expect(read.some((c) => c?.limits)).toBe(true);
    expect(read.flatMap((c) => c?.cancels ?? []).map((c) => c.runId)).toEqual(["r1"]);
  });

  it("are not heard by the server that sent them", async () => {
    const [payload] = encodeChanges("server-a", { due: ["greet"] });
    expect(decodeChanges("server-a", payload)).toBeUndefined();
    const feed = createLocalChangeFeed();
    const heard: string[] = [];
    await feed.subscribe("a", (c) => heard.push(`a:${c.due}`));
    await feed.subscribe("b", (c) => heard.push(`b:${c.due}`));
    await feed.publish("a", { due: ["greet"] });
    expect(heard).toEqual(["b:greet"]);
  });
});
