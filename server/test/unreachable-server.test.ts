import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTaskwireClient, isServerUnreachable, task } from "taskwire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// The built SDK, as a project that installed it imports it.
const sdkEntry = new URL("../../sdk-ts/dist/index.js", import.meta.url).href;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "taskwire-unreachable-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a TypeScript delay() with no server reachable", () => {
  it("rejects with one UNAVAILABLE error naming the URL", async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    const client = createTaskwireClient({ apiUrl, apiKey: "" });
    const greet = task(function greet(name: string) { return name; }, { client });
    try {
      const error = await greet.delay("Arthur").then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
      expect(isServerUnreachable(error)).toBe(true);
      expect((error as ConnectError).rawMessage).toBe(`cannot reach the taskwire server at ${apiUrl}; is it running? (ECONNREFUSED)`);
    } finally {
      client.close();
    }
  });

  it("uncaught, prints the message and a stack, without the transport's metadata or socket error", async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;
    const script = join(dir, "delay.mjs");
    writeFileSync(script, `import { task } from ${JSON.stringify(sdkEntry)};\nawait task(function greet(n) { return n; }).delay("Arthur");\n`);
    const { status, stderr } = await runNode(script, { TASKWIRE_API_URL: apiUrl, TASKWIRE_HOME: dir });
    expect(status).toBe(1);
    expect(stderr).toContain(`cannot reach the taskwire server at ${apiUrl}; is it running?`);
    expect(stderr).not.toContain("metadata");
    expect(stderr).not.toContain("syscall");
    expect(stderr).not.toContain("cause");
    expect(stderr.split("\n").length).toBeLessThan(20);
  });
});

function runNode(script: string, env: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const child = spawn(process.execPath, [script], { env: { ...inherited, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stderr })));
}

/** A port nothing listens on: one the OS just handed out and that was closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
