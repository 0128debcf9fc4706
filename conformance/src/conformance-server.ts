import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "@taskwire/server";
import { createTaskwireClient, type TaskwireClient } from "taskwire";

/**
 * Short limits, so that what a worker does wrong shows within seconds: a worker that does
 * not heartbeat loses a 3 s lease, one that does not acknowledge loses its assignment in 2 s.
 */
export const CONFORMANCE_LIMITS = { leaseDurationMs: 3_000, heartbeatIntervalMs: 500, ackTimeoutMs: 2_000 };

/**
 * A real taskwire server in this process, on a free loopback port, with its own SQLite home
 * (or the PostgreSQL database of `databaseUrl`).
 */
export interface ConformanceServer {
  readonly url: string;
  readonly port: number;
  /** A caller's client for the server as it is now (renewed by restart). */
  readonly client: TaskwireClient;
  /** Stops the server (workers get Drain) and starts it again on the same port and home. */
  restart(): Promise<void>;
  /** Stops the server and deletes its home. */
  close(): Promise<void>;
}

export interface ConformanceServerOptions {
  /** pino level for the server's own log; default "silent". */
  logLevel?: string;
  /** A postgresql:// URL to store runs in instead of SQLite in the temporary home. */
  databaseUrl?: string;
}

export async function startConformanceServer(options: ConformanceServerOptions = {}): Promise<ConformanceServer> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-conformance-"));
  const start = (port: number) =>
    startServer({
      host: "127.0.0.1",
      port,
      home,
      databaseUrl: options.databaseUrl,
      logLevel: options.logLevel ?? "silent",
      limits: CONFORMANCE_LIMITS,
      shutdownGraceMs: 2_000,
    });
  let server: RunningServer = await start(0);
  const url = server.url;
  let client = createTaskwireClient({ apiUrl: url, apiKey: "" });
  return {
    url,
    port: server.port,
    get client() {
      return client;
    },
    async restart() {
      client.close();
      await server.close();
      server = await start(server.port);
      client = createTaskwireClient({ apiUrl: url, apiKey: "" });
    },
    async close() {
      client.close();
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
