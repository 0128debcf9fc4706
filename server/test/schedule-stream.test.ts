import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Session } from "node:http2";
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createAsyncQueue } from "taskwire/async-queue";
import { createTaskwireClient } from "taskwire";
import { type ScheduleTaskRunStreamRequestSchema, type ScheduleTaskRunStreamResponse, TaskRunService } from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import { json } from "./support/json-payload.js";
import { startTestServer } from "./support/test-server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A stand-in TaskRunService (only the methods given) on a real HTTP/2 socket, and an SDK
 * client of it. `sessions` holds its connections, for a test to drop them.
 */
async function startFakeTaskRunService(methods: Partial<ServiceImpl<typeof TaskRunService>>) {
  const sessions = new Set<ServerHttp2Session>();
  const http2: Http2Server = createHttp2Server(connectNodeAdapter({ routes: (router) => router.service(TaskRunService, methods) }));
  http2.on("session", (session) => sessions.add(session));
  await new Promise<void>((resolve) => http2.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    for (const session of sessions) session.destroy();
    return new Promise<void>((resolve) => http2.close(() => resolve()));
  });
  const { port } = http2.address() as { port: number };
  const client = createTaskwireClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: "" });
  cleanups.push(() => client.close());
  return { client, sessions };
}

describe("ScheduleTaskRunStream", () => {
  it("answers each request by its id once committed, a refused one with its error, and stays open", async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const client = createClient(TaskRunService, createGrpcTransport({ baseUrl: server.server.url }));
    const requests = createAsyncQueue<MessageInitShape<typeof ScheduleTaskRunStreamRequestSchema>>();
    const responses: ScheduleTaskRunStreamResponse[] = [];
    const reading = (async () => {
      for await (const response of client.scheduleTaskRunStream(requests)) {
        responses.push(response);
        if (responses.length === 2) requests.push({ requestId: 9n, runs: [{ taskKey: "later", parameters: json({ args: [3] }) }] });
        if (responses.length === 3) requests.close();
      }
    })();
    requests.push({ requestId: 7n, runs: [{ taskKey: "ok", parameters: json({ args: [1] }) }, { taskKey: "ok", parameters: json({ args: [2] }) }] });
    requests.push({ requestId: 8n, runs: [{ taskKey: "", parameters: json({ args: [] }) }] });
    await reading;

    const byId = new Map(responses.map((r) => [r.requestId, r]));
    expect([...byId.keys()].sort()).toEqual([7n, 8n, 9n]);
    const refused = byId.get(8n);
    expect(refused?.runs).toEqual([]);
    expect(refused?.errorCode).toBe(Code.InvalidArgument);
    expect(refused?.errorMessage).toMatch(/^runs\[0\]\.task_key/);
    for (const id of [7n, 9n]) expect(byId.get(id)?.errorCode).toBe(0);
    const ids = [...(byId.get(7n)?.runs ?? []), ...(byId.get(9n)?.runs ?? [])].map((r) => r.id);
    expect(ids).toHaveLength(3);
    // Answered once durable: each run is there to read.
    for (const id of ids) expect((await client.getTaskRun({ id })).taskRun?.state).toBeDefined();
  });

  it("lets the SDK schedule on a server without it, over ScheduleTaskRuns", async () => {
    // A server of before the stream: TaskRunService with ScheduleTaskRuns only, on a real socket.
    const scheduled: string[] = [];
    const { client } = await startFakeTaskRunService({
      async scheduleTaskRuns(request) {
        return { runs: request.runs.map((run) => ({ id: `old-${scheduled.push(run.taskKey)}`, existing: false })) };
      },
    });

    const first = await Promise.all([client.schedule({ taskKey: "a" }), client.schedule({ taskKey: "b" })]);
    const second = await client.schedule({ taskKey: "c" });
    expect([...first, second].map((r) => r.id)).toEqual(["old-1", "old-2", "old-3"]);
    expect(scheduled).toEqual(["a", "b", "c"]);
  });

  it("fails the delays in flight with UNAVAILABLE when the connection drops, and schedules on a new stream after", async () => {
    // A server that takes the first request and drops the connection before answering.
    let requests = 0;
    const { client, sessions } = await startFakeTaskRunService({
      async *scheduleTaskRunStream(stream) {
        for await (const request of stream) {
          if (++requests === 1) {
            for (const session of sessions) session.destroy();
            return;
          }
          yield { requestId: request.requestId, runs: request.runs.map(() => ({ id: "second", existing: false })) };
        }
      },
    });

    const error = await client.schedule({ taskKey: "a" }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toMatch(/^the connection to the server was lost/);
    expect((await client.schedule({ taskKey: "b" })).id).toBe("second");
  });

  it("fails a delay refused on the stream alone, with the error ScheduleTaskRuns gives", async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const [good, bad] = await Promise.allSettled([
      server.client.schedule({ taskKey: "fine", parameters: json({ args: [1] }) }),
      server.client.schedule({ taskKey: "fine", parameters: { contentType: "application/json", data: new TextEncoder().encode("{not json") } }),
    ]);
    expect(good.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");
    const error = (bad as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/^runs\[0\]\.parameters/);
  });
});
