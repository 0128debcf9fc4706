import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Session } from "node:http2";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { TaskRunService, WorkerService } from "@taskwire/proto";
import { createTaskRunFuture, createTaskwireClient, createWorker, serve, task } from "taskwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostCheck, hostCheckInterceptor } from "../src/http/host-check.js";
import { requestContextValues } from "../src/http/request-context.js";
import { type RunningServer, startServer } from "../src/server.js";

// The TypeScript SDK against servers that do not let it in: one that never answers, and one
// that refuses its API key. Neither may leave a worker or a caller waiting forever.

const noop = task(function noop() {
  return "nothing";
});

/** Settles with the promise's outcome, or says it is still pending after `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown } | "pending"> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<"pending">((resolve) => (timer = setTimeout(() => resolve("pending"), ms)));
  try {
    return await Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), pending]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a server that accepts the connection and never answers", () => {
  let silent: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("stop() of a worker that never got its Welcome resolves, and so does start()", async () => {
    const { port } = silent.address() as { port: number };
    const client = createTaskwireClient({ apiUrl: `http://127.0.0.1:${port}`, apiKey: "" });
    const worker = createWorker({ tasks: [noop], client, log: () => {} });
    const started = worker.start();
    // The worker is connected and waiting for a Welcome that never comes.
    await new Promise<void>((resolve) => (sockets.length > 0 ? resolve() : silent.once("connection", () => resolve())));
    // Nothing is held before a Welcome, so nothing has to drain: the grace (10 s) does not
    // apply. Twice the grace is the bound for "it resolved" rather than "it hung".
    expect(await settledWithin(worker.stop(), 20_000)).toEqual({ value: undefined });
    expect(await settledWithin(started, 20_000)).toEqual({ value: undefined });
    client.close();
  });
});

describe("a server that refuses the API key", () => {
  let server: RunningServer;
  let home: string;
  let url: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "taskwire-test-"));
    server = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent", apiKey: "the-right-key", shutdownGraceMs: 500 });
    url = server.url;
  });

  afterAll(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  function expectApiKeyRefusal(error: unknown): void {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unauthenticated);
    expect((error as ConnectError).rawMessage).toMatch(/refused the API key .*check TASKWIRE_API_KEY/);
  }

  it("a worker's start() and serve() reject naming the API key, instead of retrying forever", async () => {
    const client = createTaskwireClient({ apiUrl: url, apiKey: "a-wrong-key" });
    const worker = createWorker({ tasks: [noop], client, log: () => {} });
    const outcome = await settledWithin(worker.start(), 20_000);
    expect(outcome).not.toBe("pending");
    expectApiKeyRefusal((outcome as { error?: unknown }).error);

    const served = await settledWithin(serve(noop, { client, handleSignals: false }), 20_000);
    expect(served).not.toBe("pending");
    expectApiKeyRefusal((served as { error?: unknown }).error);
    client.close();
  });

  it("`taskwire task serve` exits 1 with one line naming the API key", async () => {
    const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
    const fixtures = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));
    const env = { ...process.env, TASKWIRE_API_URL: url, TASKWIRE_API_KEY: "a-wrong-key", TASKWIRE_HOME: home };
    const child = spawn(process.execPath, [cli, "task", "serve", `${fixtures}:echo`], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      expect(await settledWithin(exited, 30_000)).toEqual({ value: 1 });
      expect(stderr.trim()).toMatch(/^taskwire: the taskwire server at .* refused the API key .*check TASKWIRE_API_KEY$/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a future's wait() and result() reject naming the API key, instead of waiting forever", async () => {
    const right = createTaskwireClient({ apiUrl: url, apiKey: "the-right-key" });
    const { id } = await right.taskRuns.scheduleTaskRun({ run: { taskKey: "noop" } });
    right.close();

    const client = createTaskwireClient({ apiUrl: url, apiKey: "a-wrong-key" });
    const future = createTaskRunFuture(client, id, false);
    for (const waiting of [future.result(), future.wait()]) {
      const outcome = await settledWithin(waiting, 20_000);
      expect(outcome).not.toBe("pending");
      expectApiKeyRefusal((outcome as { error?: unknown }).error);
    }
    client.close();
  });
});

describe("a server that does not know the name it is reached by", () => {
  // The server's own host check, as it answers a client that reached it by a name it does
  // not know (a DNS name missing from TASKWIRE_ALLOWED_HOSTS): the SDK cannot send such a
  // name portably here, since every name resolving to this machine is one the check allows.
  const known = createHostCheck({ allowedHosts: [], listenHost: "127.0.0.1" });
  let http2: Http2Server;
  const sessions = new Set<ServerHttp2Session>();
  let url: string;

  beforeAll(async () => {
    http2 = createHttp2Server(
      connectNodeAdapter({
        contextValues: requestContextValues,
        interceptors: [hostCheckInterceptor({ allows: () => false, refusal: known.refusal })],
        routes(router) {
          router.service(WorkerService, {});
          router.service(TaskRunService, {});
        },
      }),
    );
    http2.on("session", (session) => sessions.add(session));
    await new Promise<void>((resolve) => http2.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http2.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => http2.close(resolve));
  });

  function expectHostRefusal(outcome: { error?: unknown } | "pending"): void {
    expect(outcome).not.toBe("pending");
    const error = (outcome as { error?: unknown }).error;
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    // The server's reason and what to change, not advice about the API key.
    expect((error as ConnectError).rawMessage).toMatch(/is not a name of this server.*TASKWIRE_ALLOWED_HOSTS/);
    expect((error as ConnectError).rawMessage).not.toMatch(/API key|TASKWIRE_API_KEY/);
  }

  it("a worker's start() rejects with the server's reason, naming TASKWIRE_ALLOWED_HOSTS", async () => {
    const client = createTaskwireClient({ apiUrl: url, apiKey: "" });
    const worker = createWorker({ tasks: [noop], client, log: () => {} });
    expectHostRefusal(await settledWithin(worker.start(), 20_000));
    client.close();
  });

  it("a future's result() rejects with the server's reason, naming TASKWIRE_ALLOWED_HOSTS", async () => {
    const client = createTaskwireClient({ apiUrl: url, apiKey: "" });
    expectHostRefusal(await settledWithin(createTaskRunFuture(client, "some-run", false).result(), 20_000));
    client.close();
  });
});
