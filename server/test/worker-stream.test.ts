import { Code, ConnectError } from "@connectrpc/connect";
import { AckKind, TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";
import { json } from "./support/json-payload.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.stop();
});

async function schedule(taskKey: string, count: number): Promise<string[]> {
  const { runs } = await t.client.taskRuns.scheduleTaskRuns({
    runs: Array.from({ length: count }, (_, i) => ({ taskKey, parameters: json({ args: [i] }) })),
  });
  return runs.map((run) => run.id);
}

const state = async (id: string) => TaskRunState[(await t.client.taskRuns.getTaskRun({ id })).taskRun?.state ?? 0];
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("SubscribeTaskRuns", () => {
  it("never sends a worker more runs than its limit; each result frees one slot", async () => {
    await schedule("credits", 10);
    const worker = openRawWorker(t.server.url, { taskKeys: ["credits"], limit: 3 });
    await eventually(() => worker.assignments.length === 3);
    await settle();
    expect(worker.assignments).toHaveLength(3);

    const [first] = worker.assignments;
    worker.send({ message: { case: "completed", value: { results: [{ runId: first.runId, leaseToken: first.leaseToken, result: json(1) }] } } });
    await eventually(() => worker.assignments.length === 4);
    await settle();
    expect(worker.assignments).toHaveLength(4);
    await worker.close();
  });

  it("serves the task keys of a worker fairly", async () => {
    await schedule("fair_a", 10);
    await schedule("fair_b", 10);
    const worker = openRawWorker(t.server.url, { taskKeys: ["fair_a", "fair_b"], limit: 4 });
    await eventually(() => worker.assignments.length === 4);
    const keys = worker.assignments.map((a) => a.taskKey).sort();
    expect(keys).toEqual(["fair_a", "fair_a", "fair_b", "fair_b"]);
    await worker.close();
  });

  it("refuses a result with a stale lease token, and changes nothing", async () => {
    const [id] = await schedule("fenced", 1);
    const worker = openRawWorker(t.server.url, { taskKeys: ["fenced"], limit: 1 });
    const assignment = await eventually(() => worker.assignments[0]);
    worker.send({ message: { case: "started", value: { runs: [{ runId: id, leaseToken: assignment.leaseToken }] } } });
    await eventually(async () => (await state(id)) === "RUNNING");

    worker.send({ message: { case: "completed", value: { results: [{ runId: id, leaseToken: "stale-token", result: json("forged") }] } } });
    const refusal = await eventually(() => worker.acks.find((a) => a.leaseToken === "stale-token"));
    expect(refusal.accepted).toBe(false);
    expect(refusal.kind).toBe(AckKind.COMPLETED);
    expect(refusal.reason).toMatch(/stale lease token/);
    expect(await state(id)).toBe("RUNNING");

    worker.send({ message: { case: "completed", value: { results: [{ runId: id, leaseToken: assignment.leaseToken, result: json("real") }] } } });
    const ack = await eventually(() => worker.acks.find((a) => a.leaseToken === assignment.leaseToken));
    expect(ack.accepted).toBe(true);
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(TaskRunState[taskRun?.state ?? 0]).toBe("COMPLETED");
    expect(new TextDecoder().decode(taskRun?.result?.data)).toBe('"real"');

    // A duplicate result after the run finished is refused too.
    worker.send({ message: { case: "completed", value: { results: [{ runId: id, leaseToken: assignment.leaseToken, result: json("again") }] } } });
    await eventually(() => worker.acks.filter((a) => a.leaseToken === assignment.leaseToken).length === 2);
    expect(worker.acks.filter((a) => a.leaseToken === assignment.leaseToken)[1].accepted).toBe(false);
    await worker.close();
  });

  it("refuses the lease token of another run", async () => {
    const [a, b] = await schedule("two_runs", 2);
    const worker = openRawWorker(t.server.url, { taskKeys: ["two_runs"], limit: 2 });
    await eventually(() => worker.assignments.length === 2);
    const tokenOfA = worker.assignments.find((x) => x.runId === a)?.leaseToken ?? "";
    worker.send({ message: { case: "completed", value: { results: [{ runId: b, leaseToken: tokenOfA, result: json("x") }] } } });
    const refusal = await eventually(() => worker.acks.find((x) => x.runId === b));
    expect(refusal.accepted).toBe(false);
    expect(await state(b)).toBe("PENDING");
    await worker.close();
  });

  it("puts the runs of a worker whose stream ends back in the queue at once", async () => {
    const [id] = await schedule("dropped", 1);
    const first = openRawWorker(t.server.url, { taskKeys: ["dropped"], limit: 1 });
    await eventually(() => first.assignments.length === 1);
    await first.kill();
    const second = openRawWorker(t.server.url, { taskKeys: ["dropped"], limit: 1 });
    const assignment = await eventually(() => second.assignments[0]);
    expect(assignment.runId).toBe(id);
    expect(assignment.attempt).toBe(2);
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(taskRun?.redeliveries).toBe(1);
    expect(taskRun?.retriesUsed).toBe(0);
    await second.close();
  });

  it("hands released runs back without counting a redelivery", async () => {
    const [id] = await schedule("released", 1);
    const worker = openRawWorker(t.server.url, { taskKeys: ["released"], limit: 1 });
    const assignment = await eventually(() => worker.assignments[0]);
    worker.send({ message: { case: "drain", value: {} } });
    worker.send({ message: { case: "released", value: { runs: [{ runId: id, leaseToken: assignment.leaseToken }] } } });
    await eventually(() => worker.acks.find((a) => a.kind === AckKind.RELEASED && a.accepted));
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
    expect(TaskRunState[taskRun?.state ?? 0]).toBe("SCHEDULED");
    expect(taskRun?.redeliveries).toBe(0);
    // Draining: it gets no new work, not even the run it just released.
    await settle();
    expect(worker.assignments).toHaveLength(1);
    await worker.close();
  });

  it("does not count a redelivery for runs a draining worker never started", async () => {
    const [first, second] = await schedule("drain_race", 2);
    const worker = openRawWorker(t.server.url, { taskKeys: ["drain_race"], limit: 1 });
    const assignment = await eventually(() => worker.assignments[0]);
    expect(assignment.runId).toBe(first);
    const ref = { runId: first, leaseToken: assignment.leaseToken };
    worker.send({ message: { case: "started", value: { runs: [ref] } } });
    worker.send({ message: { case: "completed", value: { results: [{ ...ref, result: json(1) }] } } });
    // The commit that acknowledges the result also leases the second run to the worker, as
    // happens when the worker's Drain is still on its way: it asks to drain, then closes.
    const next = await eventually(() => worker.assignments[1]);
    expect(next.runId).toBe(second);
    worker.send({ message: { case: "drain", value: {} } });
    await worker.close();
    await eventually(async () => (await state(second)) === "SCHEDULED");
    const { taskRun } = await t.client.taskRuns.getTaskRun({ id: second });
    expect(taskRun?.redeliveries).toBe(0);
    expect(taskRun?.attempts).toBe(1);
  });

  it("ends a stream whose first message is not Hello", async () => {
    const worker = openRawWorker(t.server.url);
    worker.send({ message: { case: "completed", value: { results: [{ runId: "x", leaseToken: "y" }] } } });
    await worker.done;
    expect(ConnectError.from(worker.error).code).toBe(Code.FailedPrecondition);
    expect(ConnectError.from(worker.error).rawMessage).toMatch(/first message on SubscribeTaskRuns must be Hello/);
  });

  it("refuses a Hello without task keys or with another protocol version", async () => {
    const noKeys = openRawWorker(t.server.url, { taskKeys: [], limit: 1 });
    await noKeys.done;
    expect(ConnectError.from(noKeys.error).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(noKeys.error).rawMessage).toMatch(/Hello\.task_keys/);
  });

  it("ends a stream that says Hello twice, and re-queues what it held", async () => {
    const [id] = await schedule("twice", 1);
    const worker = openRawWorker(t.server.url, { taskKeys: ["twice"], limit: 1 });
    await eventually(() => worker.assignments.length === 1);
    worker.send({ message: { case: "hello", value: { protocolVersion: 1, workerId: "again", taskKeys: ["twice"], limit: 1 } } });
    await worker.done;
    expect(ConnectError.from(worker.error).code).toBe(Code.InvalidArgument);
    await eventually(async () => (await state(id)) === "SCHEDULED");
  });
});
