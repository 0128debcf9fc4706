import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningServer } from "../server.js";
import { DatabaseInUseError } from "../store/database-in-use-error.js";
import { CliError } from "./cli-error.js";
import type { Settings } from "./cli-settings.js";
import { leaseLimits } from "./lease-limits.js";
import { redactSecret } from "./redact-secret.js";

/**
 * Starts a taskwire server from resolved settings and prints the one line that tells the
 * user where it listens and where it stores runs. Shared by `server start` and `demo`.
 *
 * @throws CliError when the address cannot be listened on (port in use, no permission), or
 *   when another server holds the database.
 */
export async function startConfiguredServer(settings: Settings): Promise<RunningServer> {
  const { serverHost: host, serverPort: port } = settings;
  // Loaded here, not at the top: the store, its drivers and the UI are only needed by the
  // commands that run a server, and loading them slows every other command.
  const { startServer } = await import("../server.js");
  if (Boolean(settings.tlsCert) !== Boolean(settings.tlsKey)) {
    throw new CliError("TLS needs both a certificate and its key: set --tls-cert and --tls-key together");
  }
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const tls = settings.tlsCert && settings.tlsKey ? { cert: read(settings.tlsCert), key: read(settings.tlsKey) } : undefined;
  let server: RunningServer;
  try {
    server = await startServer({
      host,
      port,
      home: settings.home,
      databaseUrl: settings.databaseUrl,
      apiKey: settings.apiKey,
      logLevel: settings.logLevel,
      retentionMs: settings.retentionHours * 3_600_000,
      tls,
      limits: { maxPayloadBytes: settings.maxPayloadBytes, ...leaseLimits(settings.leaseDurationMs) },
      connectionLimits: settings.connectionLimits,
      allowedHosts: [...settings.allowedHosts],
    });
  } catch (error) {
    if (error instanceof DatabaseInUseError) throw new CliError(error.message, { cause: error });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new CliError(
        `cannot listen on ${host}:${port}: the port is in use (is a taskwire server already running? choose another with --port)`,
        { cause: error },
      );
    }
    if (code === "EACCES" || code === "EADDRNOTAVAIL") {
      throw new CliError(`cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
    }
    if ((error as Error).name === "DatabaseInUseError") {
      throw new CliError(`cannot start: ${(error as Error).message}`, { cause: error });
    }
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "28P01" || code === "3D000") {
      // Connection refused, unknown host, wrong password, no such database.
      const database = redactSecret("TASKWIRE_DATABASE_URL", settings.databaseUrl ?? "");
      throw new CliError(`cannot connect to the database ${database}: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
  const database =
    settings.databaseUrl === undefined ? join(settings.home, "taskwire.db") : redactSecret("TASKWIRE_DATABASE_URL", settings.databaseUrl);
  process.stdout.write(`taskwire server listening on ${server.url} (database: ${database})\n`);
  return server;
}
