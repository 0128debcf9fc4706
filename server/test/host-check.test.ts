import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTaskwireClient } from "taskwire";
import { afterEach, describe, expect, it } from "vitest";
import { createHostCheck } from "../src/http/host-check.js";
import { type RunningServer, startServer } from "../src/server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(allowedHosts?: string[]): Promise<RunningServer> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-host-"));
  const server = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent", allowedHosts });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => server.close());
  return server;
}

/** An HTTP/1.1 request with the Host header a DNS-rebinding page would send. */
function request(port: number, path: string, host: string, body?: unknown) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: body === undefined ? "GET" : "POST",
        headers: { host, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function scheduledRun(server: RunningServer): Promise<string> {
  const client = createTaskwireClient({ apiUrl: server.url, apiKey: "" });
  cleanups.push(() => client.close());
  const { id } = await client.taskRuns.scheduleTaskRun({
    run: { taskKey: "nobody-serves-this", parameters: { contentType: "application/json", data: new TextEncoder().encode('{"args":[],"kwargs":{}}') } },
  });
  return id;
}

const CANCEL = "/taskwire.v1.TaskRunService/CancelTaskRun";
const GET = "/taskwire.v1.TaskRunService/GetTaskRun";

describe("requests for a host the server does not know (DNS rebinding)", () => {
  it("cannot cancel a run: 403 permission_denied naming the host and the setting", async () => {
    const server = await serve();
    const id = await scheduledRun(server);
    const refused = await request(server.port, CANCEL, `rebound.example:${server.port}`, { id });
    expect(refused.status).toBe(403);
    const error = JSON.parse(refused.text) as { code: string; message: string };
    expect(error.code).toBe("permission_denied");
    expect(error.message).toContain(`Host "rebound.example:${server.port}"`);
    expect(error.message).toContain("TASKWIRE_ALLOWED_HOSTS");
    const run = await request(server.port, GET, `127.0.0.1:${server.port}`, { id });
    expect(JSON.parse(run.text).taskRun.state).toBe("TASK_RUN_STATE_SCHEDULED");
  });

  it("cannot read the UI or the metrics, and still gets /healthz", async () => {
    const server = await serve();
    for (const path of ["/", "/task-runs", "/metrics"]) {
      const refused = await request(server.port, path, "rebound.example");
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Host "rebound.example"');
    }
    expect((await request(server.port, "/healthz", "rebound.example")).status).toBe(200);
  });

  it("is served once the host is listed in allowedHosts", async () => {
    const server = await serve(["taskwire.internal", "*.tasks.example"]);
    const id = await scheduledRun(server);
    expect((await request(server.port, GET, "taskwire.internal:7070", { id })).status).toBe(200);
    expect((await request(server.port, GET, "eu.tasks.example", { id })).status).toBe(200);
    expect((await request(server.port, GET, "tasks.example.evil", { id })).status).toBe(403);
    const cancelled = await request(server.port, CANCEL, "taskwire.internal", { id });
    expect(JSON.parse(cancelled.text).taskRun.state).toBe("TASK_RUN_STATE_CANCELLED");
  });

  it("serves loopback names and addresses by default", async () => {
    const server = await serve();
    const id = await scheduledRun(server);
    for (const host of ["localhost", `localhost:${server.port}`, "127.0.0.1", "[::1]:7070", "app.localhost"]) {
      expect((await request(server.port, GET, host, { id })).status).toBe(200);
    }
  });
});

describe("UI pages", () => {
  it("forbid framing, sniffing and scripts", async () => {
    const server = await serve();
    const page = await request(server.port, "/task-runs", `127.0.0.1:${server.port}`);
    expect(page.status).toBe(200);
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });
});

describe("createHostCheck", () => {
  it("allows IP addresses, loopback names, the listening name and listed names only", () => {
    const check = createHostCheck({ allowedHosts: ["Api.Example.com"], listenHost: "taskwire.lan" });
    for (const host of ["10.1.2.3:7070", "[fe80::1]", "localhost.", "taskwire.lan:7070", "api.example.com"]) {
      expect(check.allows(host)).toBe(true);
    }
    for (const host of ["example.com", "api.example.com.evil", "localhost.evil", "10.1.2.3.nip.io"]) {
      expect(check.allows(host)).toBe(false);
    }
    expect(createHostCheck({ allowedHosts: ["*"], listenHost: "0.0.0.0" }).allows("anything.example")).toBe(true);
  });
});
