import { describe, expect, it } from "vitest";
import { createDispatchBudget } from "../src/broker/dispatch-budget.js";
import type { RunRecord } from "../src/store/store.js";

describe("createDispatchBudget", () => {
  const run = (bytes: number) => ({ parameters: { contentType: "application/json", data: new Uint8Array(bytes) } }) as RunRecord;

  it("admits runs for a worker up to its bytes, always at least one, and says when it turned one away", () => {
    const budget = createDispatchBudget(1_000);
    const [a, b] = [{}, {}];
    expect(budget.admit(a, run(2_000))).toBe(true);
    expect(budget.admit(a, run(1))).toBe(false);
    expect(budget.exhausted(a)).toBe(true);
    expect([budget.admit(b, run(600)), budget.admit(b, run(400)), budget.admit(b, run(1))]).toEqual([true, true, false]);
    expect(budget.exhausted(b)).toBe(true);
  });
});
