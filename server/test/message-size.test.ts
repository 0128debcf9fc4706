import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SubscribeTaskRunsResponseSchema } from "@taskwire/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../src/broker/broker.js";
import type { LeasedRun } from "../src/broker/worker-channel.js";
import { assignmentBytes, DEFAULT_MAX_MESSAGE_BYTES, splitAssignments } from "../src/rpc/assignment-size.js";
import type { RunRecord } from "../src/store/store.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually, startTestServer, type TestServer } from "./support/test-server.js";

// grpc-js, grpc-go and grpcio receive at most 4 MiB per message unless told otherwise.
const GRPC_DEFAULT_RECEIVE_BYTES = 4 * 1024 * 1024;

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.stop();
});

/** JSON parameters of exactly `bytes` bytes: {"args":["xxx…"]}. */
function parametersOf(bytes: number) {
  return { contentType: "application/json", data: new TextEncoder().encode(`{"args":["${"x".repeat(bytes - 13)}"]}`) };
}

describe("messages a worker receives", () => {
  it("fit a 4 MiB receive limit: runs at the payload limit and several 2 MiB runs complete without redelivery", async () => {
    const runs = [
      { taskKey: "big", parameters: parametersOf(DEFAULT_LIMITS.maxPayloadBytes) },
      { taskKey: "big", parameters: parametersOf(DEFAULT_LIMITS.maxPayloadBytes - 1) },
      ...Array.from({ length: 4 }, () => ({ taskKey: "big", parameters: parametersOf(2 * 1024 * 1024) })),
    ];
    // One request each: five runs at the payload limit would be over the size of one message.
    const ids: string[] = [];
    for (const run of runs) ids.push((await t.client.taskRuns.scheduleTaskRun({ run })).id);
    const worker = openRawWorker(t.server.url, { taskKeys: ["big"], limit: 10 }, { readMaxBytes: GRPC_DEFAULT_RECEIVE_BYTES });
    try {
      await eventually(() => worker.assignments.length === runs.length || worker.ended);
      expect(worker.error).toBeUndefined();
      const refs = worker.assignments.map((a) => ({ runId: a.runId, leaseToken: a.leaseToken }));
      worker.send({ message: { case: "started", value: { runs: refs } } });
      const results = refs.map((ref) => ({ ...ref, result: { contentType: "application/json", data: new TextEncoder().encode("true") } }));
      worker.send({ message: { case: "completed", value: { results } } });
      await eventually(() => worker.acks.length === runs.length);
      for (const id of ids) {
        const { taskRun } = await t.client.taskRuns.getTaskRun({ id });
        expect({ attempts: taskRun?.attempts, redeliveries: taskRun?.redeliveries }).toEqual({ attempts: 1, redeliveries: 0 });
      }
    } finally {
      await worker.kill();
    }
  });

  it("refuses at schedule time a run whose tags would not fit in one message", async () => {
    const tags = Array.from({ length: 100 }, (_, i) => `${i}-${"t".repeat(1_000)}`);
    const call = t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "tagged", parameters: parametersOf(DEFAULT_LIMITS.maxPayloadBytes), options: { tags } } });
    await expect(call).rejects.toThrow(/takes \d+ bytes in an assignment/);
  });
});

describe("messages a producer sends", () => {
  it("64 delays of 1 MB at once are each scheduled (the SDK splits its batches by size)", async () => {
    const calls = Array.from({ length: 64 }, () => t.client.schedule({ taskKey: "big", parameters: parametersOf(1_000_000) }));
    const answers = await Promise.all(calls);
    expect(new Set(answers.map((a) => a.id)).size).toBe(64);
  });

  it("a message over the size limit is refused as RESOURCE_EXHAUSTED naming the limit, not reset as an internal error", async () => {
    // Five runs at the payload limit: about 20 MB, over the 4 payloads + 64 KiB one message may hold.
    const runs = Array.from({ length: 5 }, () => ({ taskKey: "big", parameters: parametersOf(DEFAULT_LIMITS.maxPayloadBytes) }));
    const call = t.client.taskRuns.scheduleTaskRuns({ runs });
    await expect(call).rejects.toMatchObject({ code: Code.ResourceExhausted, message: expect.stringMatching(/larger than configured readMaxBytes \d+/) });
    // The server is unharmed and answers the next call.
    expect((await t.client.schedule({ taskKey: "big", parameters: parametersOf(100) })).id).toBeTruthy();
  });
});

describe("assignmentBytes", () => {
  const run = (bytes: number, tags: string[] = []): RunRecord =>
    ({
      id: "019ab3c1-0000-7000-8000-000000000000",
      taskKey: "ünïcode-key",
      state: "PENDING",
      parameters: parametersOf(bytes),
      options: { retries: 0, retryDelaySeconds: [], retryJitterFactor: 0, timeoutSeconds: 12.5, priority: 0, idempotencyKey: "", tags, maxRedeliveries: 5 },
      attempts: 3,
      retriesUsed: 0,
      redeliveries: 0,
      createdAt: 0,
      scheduledAt: 0,
      foreground: false,
    }) as RunRecord;
  const leased = (record: RunRecord): LeasedRun => ({ run: record, leaseToken: "0123456789abcdef", leaseDeadline: Date.now() + 30_000 });
  const encodedSize = (group: LeasedRun[]) =>
    toBinary(
      SubscribeTaskRunsResponseSchema,
      create(SubscribeTaskRunsResponseSchema, {
        message: {
          case: "assignments",
          value: {
            assignments: group.map(({ run: r, leaseToken, leaseDeadline }) => ({
              runId: r.id,
              taskKey: r.taskKey,
              attempt: r.attempts,
              leaseToken,
              parameters: r.parameters,
              leaseDeadline: timestampFromMs(leaseDeadline),
              timeoutMs: Math.round(r.options.timeoutSeconds * 1000),
              tags: r.options.tags,
            })),
          },
        },
      }),
    ).byteLength;

  it("is never below the encoded size, and splitting keeps each message within the limit", () => {
    for (const bytes of [20, 200, 20_000, 2_000_000]) {
      const one = leased(run(bytes, ["a", "tag ☃"]));
      const size = assignmentBytes(one);
      expect(size).toBeGreaterThanOrEqual(encodedSize([one]) - 6);
      expect(size).toBeLessThan(encodedSize([one]) + 64);
    }
    const many = [3_000_000, 2_000_000, 2_000_000, 100, 4_000_000, 20].map((bytes) => leased(run(bytes)));
    const groups = splitAssignments(many, DEFAULT_MAX_MESSAGE_BYTES);
    expect(groups.flatMap((group) => group.runs)).toEqual(many);
    expect(groups.length).toBeGreaterThan(1);
    for (const group of groups) expect(encodedSize(group.runs) + 5).toBeLessThanOrEqual(DEFAULT_MAX_MESSAGE_BYTES);
  });
});
