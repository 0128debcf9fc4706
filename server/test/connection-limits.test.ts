import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectHttp2, type Settings } from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTaskwireClient } from "taskwire";
import { TaskRunService } from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionLimits } from "../src/http/connection-limits.js";
import { type RunningServer, startServer } from "../src/server.js";
import { json } from "./support/json-payload.js";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually } from "./support/test-server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(limits: Partial<ConnectionLimits>, tls?: { cert: Buffer; key: Buffer }): Promise<RunningServer> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-conn-"));
  const server = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent", connectionLimits: limits, tls });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => server.close());
  return server;
}

/** A TCP connection that records when the server ended it; the test never ends it first. */
async function connect(port: number) {
  // Before connecting: the server cannot start a connection's timers earlier. Taken after
  // the "connect" event instead, on a loaded machine it can lag the server's accept (the same
  // process) by more than the 20 ms the tests allow for timer granularity.
  const openedAt = Date.now();
  const socket = net.connect(port, "127.0.0.1");
  cleanups.push(() => void socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let closedAt: number | undefined;
  socket.on("error", () => {});
  socket.on("data", () => {});
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve((closedAt = Date.now()))));
  return {
    socket,
    openedAt,
    closed,
    get isClosed() {
      return closedAt !== undefined;
    },
  };
}

async function healthz(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  await response.text();
  return response.status;
}

describe("connections that stay silent or slow", () => {
  it("closes sockets that send nothing once the handshake timeout passes", async () => {
    const server = await serve({ handshakeTimeoutMs: 300 });
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(server.port)));
    for (const { openedAt, closed } of sockets) {
      // Closed by the server, and not before the timeout it was given.
      expect(await closed).toBeGreaterThanOrEqual(openedAt + 300 - 20);
    }
    expect(await healthz(server.port)).toBe(200);
  });

  it("closes an HTTP/1.1 request whose headers trickle in (slowloris)", async () => {
    const server = await serve({ headersTimeoutMs: 400 });
    const conn = await connect(server.port);
    conn.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // One header byte every 50 ms: always some traffic, never the end of the headers.
    const trickle = setInterval(() => conn.socket.writable && conn.socket.write("x"), 50);
    cleanups.push(() => clearInterval(trickle));
    expect(await conn.closed).toBeGreaterThanOrEqual(conn.openedAt + 400 - 20);
  });

  it("closes an HTTP/2 connection that sent the preface and nothing else", async () => {
    const server = await serve({ idleTimeoutMs: 300 });
    const conn = await connect(server.port);
    conn.socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    expect(await conn.closed).toBeGreaterThanOrEqual(conn.openedAt + 300 - 20);
  });

  it("closes a TLS connection that never starts its handshake", async () => {
    const dir = mkdtempSync(join(tmpdir(), "taskwire-conn-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { stdio: "ignore" });
    const server = await serve({ handshakeTimeoutMs: 300 }, { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) });
    const conn = await connect(server.port);
    expect(await conn.closed).toBeGreaterThanOrEqual(conn.openedAt + 300 - 20);
  });

  it("refuses connections over the cap, and answers /healthz once they are gone", async () => {
    // A handshake timeout far beyond the test, so that only the cap closes anything.
    const server = await serve({ maxConnections: 5, handshakeTimeoutMs: 600_000 });
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await connect(server.port));
    const extra = await Promise.all(Array.from({ length: 20 }, () => connect(server.port)));
    await Promise.all(extra.map((conn) => conn.closed));
    // The five within the cap are still open once the twenty over it were closed.
    expect(held.filter((conn) => conn.isClosed)).toHaveLength(0);
    for (const conn of held) conn.socket.destroy();
    await Promise.all(held.map((conn) => conn.closed));
    expect(await eventually(async () => (await healthz(server.port).catch(() => 0)) === 200)).toBe(true);
  });
});

describe("streams on one HTTP/2 connection", () => {
  it("are capped by the limit the server advertises in its SETTINGS (nghttp2 refuses streams beyond it)", async () => {
    const server = await serve({ maxConcurrentStreams: 3 });
    const session = connectHttp2(server.url);
    cleanups.push(() => void session.destroy());
    session.on("error", () => {});
    const settings = await new Promise<Settings>((resolve) => session.once("remoteSettings", resolve));
    expect(settings.maxConcurrentStreams).toBe(3);
  });
});

describe("calls that last longer than the timeouts", () => {
  it("lets an HTTP/1.1 call outlast the request timeout once its request has arrived", async () => {
    const server = await serve({ headersTimeoutMs: 100, requestTimeoutMs: 200 });
    const client = createClient(TaskRunService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const { id } = await client.scheduleTaskRun({ run: { taskKey: "nobody-serves-this", parameters: json({ args: [1], kwargs: {} }) } });
    // No worker serves the task, so the server holds the call for the whole 1.5 s.
    const waited = await client.waitTaskRun({ id, timeoutMs: 1_500 });
    expect(waited.final).toBe(false);
  });

  it("closes an idle client connection, and the client's next call opens a new one", async () => {
    const server = await serve({ idleTimeoutMs: 200 });
    const client = createTaskwireClient({ apiUrl: server.url, apiKey: "" });
    cleanups.push(() => client.close());
    const { id } = await client.taskRuns.scheduleTaskRun({ run: { taskKey: "t", parameters: json({ args: [], kwargs: {} }) } });
    // Five idle timeouts without a call: the server has sent GOAWAY and closed the connection.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const { taskRun } = await client.taskRuns.getTaskRun({ id });
    expect(taskRun?.id).toBe(id);
  });

  it("keeps a quiet worker stream open past the idle timeout, and hands it work", async () => {
    const server = await serve({ idleTimeoutMs: 200 });
    const worker = openRawWorker(server.url, { taskKeys: ["quiet"], limit: 1 });
    cleanups.push(() => worker.kill().then(() => {}));
    await eventually(() => worker.received.length > 0);
    // Five idle timeouts with nothing sent either way on the stream.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const client = createClient(TaskRunService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    await client.scheduleTaskRun({ run: { taskKey: "quiet", parameters: json({ args: [1], kwargs: {} }) } });
    await eventually(() => worker.assignments.length === 1);
    expect(worker.ended).toBe(false);
  });
});
