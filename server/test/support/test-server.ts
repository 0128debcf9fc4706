import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTaskwireClient, type TaskwireClient } from "taskwire";
import type { BrokerLimits } from "../../src/broker/broker.js";
import { type RunningServer, startServer } from "../../src/server.js";

export interface TestServer {
  server: RunningServer;
  client: TaskwireClient;
  home: string;
  stop(): Promise<void>;
}

/** A real server on a free loopback port with its own SQLite file, in this process. */
export async function startTestServer(limits?: Partial<BrokerLimits>): Promise<TestServer> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-test-"));
  const server = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent", limits, shutdownGraceMs: 500 });
  const client = createTaskwireClient({ apiUrl: server.url, apiKey: "" });
  return {
    server,
    client,
    home,
    async stop() {
      client.close();
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` returns a value (not undefined/false), checking every 20 ms. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
