import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBroker, type LeaseAck, type LeasedRun } from "../src/broker/broker.js";
import { runFromSpec } from "../src/rpc/run-codec.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";
import type { Store } from "../src/store/store.js";
import { eventually } from "./support/test-server.js";

// A store whose commits fail on demand, as a full disk or an I/O error would.
function flakyStore(): { store: Store; failNextCommits(n: number): void } {
  const real = createSqliteStore({ path: ":memory:" });
  let failures = 0;
  const store: Store = {
    ...real,
    location: real.location,
    async commit(batch) {
      if (failures > 0) {
        failures--;
        throw new Error("disk I/O error");
      }
      return real.commit(batch);
    },
  };
  return { store, failNextCommits: (n) => (failures = n) };
}

describe("a store that fails to commit", () => {
  it("loses no result: the write is retried until it is durable, then acknowledged", async () => {
    const { store, failNextCommits } = flakyStore();
    const broker = createBroker({ store, logger: pino({ level: "silent" }) });
    const assigned: LeasedRun[] = [];
    const acks: LeaseAck[] = [];
    const session = broker.connectWorker(
      { workerId: "w", taskKeys: ["k"], limit: 1 },
      { assign: (runs) => assigned.push(...runs), ack: (a) => acks.push(...a), cancel: () => {}, drain: () => {}, unsentBytes: 0 },
    );
    const [{ id }] = await broker.schedule([runFromSpec({ taskKey: "k" }, "run", broker.limits, Date.now())]);
    const lease = await eventually(() => assigned[0]);
    const ref = { runId: id, leaseToken: lease.leaseToken };
    broker.started(session, [ref]);
    failNextCommits(2);
    broker.completed(session, [{ ...ref, result: { contentType: "application/json", data: new TextEncoder().encode('"done"') } }]);
    const ack = await eventually(() => acks.find((a) => a.kind === "COMPLETED"), 5_000);
    expect(ack.accepted).toBe(true);
    const run = await broker.getRun(id);
    expect(run.state).toBe("COMPLETED");
    expect(new TextDecoder().decode(run.result?.data)).toBe('"done"');
    await broker.close(0);
  });

  it("refuses a schedule at once when its commit fails, never commits it later, and keeps the result it was committed with", async () => {
    const { store, failNextCommits } = flakyStore();
    const broker = createBroker({ store, logger: pino({ level: "silent" }) });
    const assigned: LeasedRun[] = [];
    const acks: LeaseAck[] = [];
    const session = broker.connectWorker(
      { workerId: "w", taskKeys: ["k"], limit: 1 },
      { assign: (runs) => assigned.push(...runs), ack: (a) => acks.push(...a), cancel: () => {}, drain: () => {}, unsentBytes: 0 },
    );
    const [{ id }] = await broker.schedule([runFromSpec({ taskKey: "k" }, "run", broker.limits, Date.now())]);
    const lease = await eventually(() => assigned[0]);
    const ref = { runId: id, leaseToken: lease.leaseToken };
    broker.started(session, [ref]);

    // One commit holding a worker's result and a caller's schedule, and it fails.
    failNextCommits(1);
    broker.completed(session, [{ ...ref, result: { contentType: "application/json", data: new TextEncoder().encode('"done"') } }]);
    const refused = await broker.schedule([runFromSpec({ taskKey: "other" }, "run", broker.limits, Date.now())]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.Unavailable);
    expect((refused as ConnectError).rawMessage).toContain("disk I/O error");

    const ack = await eventually(() => acks.find((a) => a.kind === "COMPLETED"), 5_000);
    expect(ack.accepted).toBe(true);
    expect((await broker.getRun(id)).state).toBe("COMPLETED");
    await broker.schedule([runFromSpec({ taskKey: "later" }, "run", broker.limits, Date.now())]);
    const { runs } = await store.listRuns({ taskKeys: [], states: [], tag: "", limit: 10 });
    expect(runs.map((run) => run.taskKey).sort()).toEqual(["k", "later"]);
    await broker.close(0);
  });
});
