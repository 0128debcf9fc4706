import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, TaskRunState } from "@taskwire/proto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.js";

// Bugs the fuzz test found, one regression test each: inputs that used to break the server
// or every listing that held the run they created.

let t: TestServer;

beforeEach(async () => {
  t = await startTestServer();
});

afterEach(async () => {
  await t.stop();
});

/** One Connect unary call over HTTP/1.1, as curl or a browser makes it. */
async function connectCall(method: string, body: Uint8Array | string, contentType: string) {
  const response = await fetch(`${t.server.url}/taskwire.v1.TaskRunService/${method}`, {
    method: "POST",
    headers: { "content-type": contentType, "connect-protocol-version": "1" },
    body,
  });
  const text = await response.text();
  return { status: response.status, error: response.status === 200 ? undefined : (JSON.parse(text) as { code: string; message: string }) };
}

/** The code of a failed call, or "ok". */
const outcome = (call: Promise<unknown>) => call.then(() => "ok", (error) => Code[ConnectError.from(error).code]);

describe("fuzz-found regressions", () => {
  // Observed: internal ("internal error"). runFromSpec turns the Timestamp into ms
  // (seconds * 1000) and, when it is in the future, calls new Date(ms).toISOString() for
  // the history message, which throws RangeError past year 275760. Timestamps outside
  // 0001-01-01..9999-12-31 are invalid (timestamp.proto) and should be refused.
  it("refuses a scheduled_time past 9999-12-31 with invalid_argument", async () => {
    const call = t.client.taskRuns.scheduleTaskRun({ run: { taskKey: "far", options: { scheduledTime: { seconds: 10n ** 13n } } } });
    expect(await outcome(call)).toBe("InvalidArgument");
  });

  // Observed: the run is stored; from then on every ListTaskRuns page holding it, and its
  // GetTaskRun, fail with internal: timestampFromMs(start_time in ms) cannot encode seconds
  // beyond int64, so one bad RecordTaskRun breaks listing for every caller.
  it("refuses a recorded start_time outside the Timestamp range instead of storing an unreadable run", async () => {
    const record = t.client.taskRuns.recordTaskRun({
      taskKey: "recorded",
      state: TaskRunState.COMPLETED,
      startTime: { seconds: 2n ** 63n - 1n },
    });
    const recorded = await outcome(record);
    expect(await outcome(t.client.taskRuns.listTaskRuns({}))).toBe("ok");
    expect(recorded).toBe("InvalidArgument");
  });

  // Observed: the run is stored with scheduled time 10000-01-01T00:00:00.000Z (timestampMs
  // rounds 999999999 ns up to a whole second), and every JSON response holding it fails with
  // internal "cannot encode message google.protobuf.Timestamp to JSON: must be from
  // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive": GetTaskRun and ListTaskRuns
  // over Connect JSON (the web UI, curl) break for every caller.
  it("keeps a run scheduled for 9999-12-31T23:59:59.999999999Z readable over JSON", async () => {
    const { id } = await t.client.taskRuns.scheduleTaskRun({
      run: { taskKey: "last_nanosecond", options: { scheduledTime: { seconds: 253402300799n, nanos: 999_999_999 } } },
    });
    const list = await connectCall("ListTaskRuns", "{}", "application/json");
    const get = await connectCall("GetTaskRun", JSON.stringify({ id }), "application/json");
    expect([list.error?.code ?? "ok", get.error?.code ?? "ok"]).toEqual(["ok", "ok"]);
  });

  // Observed: no answer at all (the caller waits until its own deadline). broker.schedule([])
  // queues a write with nothing in it; flush() finds the batch empty and returns without
  // calling the write's callback, so the promise never settles. (It does answer when a
  // worker's claim happens to share that commit.) Expected: an empty response at once, or
  // invalid_argument.
  it("answers ScheduleTaskRuns with no runs", async () => {
    const call = t.client.taskRuns.scheduleTaskRuns({ runs: [] }, { timeoutMs: 3_000 });
    expect(["ok", "InvalidArgument"]).toContain(await outcome(call));
  });

  // Observed: recordTaskRun stores `error: request.error`, the decoded protobuf message with
  // its $unknown fields, as JSON; read back, $unknown's bytes are a plain object and
  // serializing the run fails: GetTaskRun and every ListTaskRuns page holding the run answer
  // internal "serialize binary: invalid uint32: NaN". A newer client sending an ErrorInfo
  // field this server does not know would break listing for everyone.
  it("stores a recorded ErrorInfo with unknown fields without breaking the run", async () => {
    const error = create(ErrorInfoSchema, { type: "ValueError", message: "m" });
    error.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    const { id } = await t.client.taskRuns.recordTaskRun({ taskKey: "recorded", state: TaskRunState.FAILED, error });
    expect(await outcome(t.client.taskRuns.getTaskRun({ id }))).toBe("ok");
    expect(await outcome(t.client.taskRuns.listTaskRuns({}))).toBe("ok");
  });
});

