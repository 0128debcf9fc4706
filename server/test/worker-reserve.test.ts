import { TaskRunState } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";
import { json } from "./support/json-payload.js";

// A worker that answers quickly gets a reserve: runs claimed for it and sent the moment a
// result frees a slot (server/src/broker/dispatcher.ts). These tests hold what must not
// change with it: never more than the limit at the worker, and a reserved run the worker
// never saw is not its fault when it leaves, drains or the run is cancelled.

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

const run = async (id: string) => (await t.client.taskRuns.getTaskRun({ id })).taskRun;
const state = async (id: string) => TaskRunState[(await run(id))?.state ?? 0];

/**
 * A worker of limit 2 that completes each run as soon as it arrives, `quickly` times, then
 * holds the next ones: the server keeps a reserve for it by then. Records the most runs it
 * held at once.
 */
async function quickWorker(taskKey: string, quickly: number) {
  const worker = openRawWorker(t.server.url, { taskKeys: [taskKey], limit: 2 });
  let answered = 0;
  let mostHeld = 0;
  const timer = setInterval(() => {
    const held = worker.assignments.length - answered;
    mostHeld = Math.max(mostHeld, held);
    const now = worker.assignments.slice(answered, Math.min(worker.assignments.length, quickly));
    if (now.length === 0) return;
    answered += now.length;
    const refs = now.map((a) => ({ runId: a.runId, leaseToken: a.leaseToken }));
    worker.send({ message: { case: "started", value: { runs: refs } } });
    worker.send({ message: { case: "completed", value: { results: refs.map((ref) => ({ ...ref, result: json(1) })) } } });
  }, 1);
  // Held two, answered what it was to answer, and the server has claimed the reserve.
  await eventually(() => answered === quickly && worker.assignments.length === quickly + 2);
  const pending = await eventually(async () => {
    const { taskRuns } = await t.client.taskRuns.listTaskRuns({ taskKeys: [taskKey], states: [TaskRunState.PENDING] });
    return taskRuns.length === 4 && taskRuns;
  });
  clearInterval(timer);
  const sent = new Set(worker.assignments.map((a) => a.runId));
  const reserved = pending.map((r) => r.id).filter((id) => !sent.has(id));
  return { worker, mostHeld: () => mostHeld, reserved, held: worker.assignments.slice(quickly) };
}

describe("the reserve of a quick worker", () => {
  it("never puts more than the worker's limit at the worker", async () => {
    await schedule("reserve_limit", 30);
    const { worker, mostHeld, reserved } = await quickWorker("reserve_limit", 20);
    expect(reserved).toHaveLength(2);
    expect(mostHeld()).toBeLessThanOrEqual(2);
    expect(worker.assignments).toHaveLength(22);
    await worker.close();
  });

  it("hands reserved runs back without a redelivery when the worker leaves, and counts the held ones", async () => {
    await schedule("reserve_leave", 10);
    const { worker, reserved, held } = await quickWorker("reserve_leave", 4);
    await worker.kill();
    for (const id of reserved) {
      await eventually(async () => (await state(id)) === "SCHEDULED" || (await state(id)) === "PENDING");
      expect((await run(id))?.redeliveries).toBe(0);
    }
    for (const assignment of held) await eventually(async () => (await run(assignment.runId))?.redeliveries === 1);
  });

  it("hands reserved runs back when the worker drains", async () => {
    await schedule("reserve_drain", 10);
    const { worker, reserved } = await quickWorker("reserve_drain", 4);
    worker.send({ message: { case: "drain", value: {} } });
    for (const id of reserved) {
      await eventually(async () => (await state(id)) === "SCHEDULED");
      expect((await run(id))?.redeliveries).toBe(0);
    }
    expect(worker.assignments).toHaveLength(6);
    await worker.close();
  });

  it("cancels a reserved run at once, without its worker", async () => {
    await schedule("reserve_cancel", 10);
    const { worker, reserved } = await quickWorker("reserve_cancel", 4);
    await t.client.taskRuns.cancelTaskRun({ id: reserved[0] });
    await eventually(async () => (await state(reserved[0])) === "CANCELLED");
    expect(worker.received.some((m) => m.message.case === "cancel")).toBe(false);
    await worker.close();
  });
});
