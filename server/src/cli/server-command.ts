import { UsageError } from "./cli-error.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { resolveSettings } from "./resolve-settings.js";
import { startConfiguredServer } from "./start-configured-server.js";
import { waitForShutdownSignal } from "./wait-for-shutdown-signal.js";

const startCommand = createCommand({
  name: "server start",
  summary: "Start a taskwire server",
  usage: `Usage: taskwire server start [--host HOST] [--port PORT] [--database-url URL] [--api-key KEY]
                             [--tls-cert FILE --tls-key FILE]

Starts a taskwire server: gRPC, Connect, the web UI, /healthz and /metrics on one port.
Runs are stored in SQLite at $TASKWIRE_HOME/taskwire.db unless --database-url names
another SQLite file (one server per file) or a PostgreSQL database (any number of
servers, as peers; see docs/deployment.md). Stops
gracefully on Ctrl-C (SIGINT) or SIGTERM: workers are asked to drain, and what they
cannot finish in time goes back to the queue.

Options:
  --host HOST           Address to listen on (TASKWIRE_SERVER_HOST, default 127.0.0.1)
  --port PORT           Port to listen on (TASKWIRE_SERVER_PORT, default 7070)
  --database-url URL    sqlite:<path> or postgresql://user:password@host/db (TASKWIRE_DATABASE_URL)
  --api-key KEY         Require this key from every client (TASKWIRE_API_KEY)
  --log-level LEVEL     trace, debug, info, warn, error, fatal or silent (TASKWIRE_LOG_LEVEL)
  --tls-cert FILE       PEM certificate: serve HTTPS only (TASKWIRE_TLS_CERT)
  --tls-key FILE        PEM private key of --tls-cert (TASKWIRE_TLS_KEY)`,
  flags: {
    host: { type: "string" },
    port: { type: "string" },
    "database-url": { type: "string" },
    "api-key": { type: "string" },
    "log-level": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
  },
  async run(flags, positionals, usage) {
    if (positionals.length > 0) {
      throw new UsageError(`taskwire server start: unexpected argument '${positionals[0]}'`, usage);
    }
    const settings = resolveSettings({
      TASKWIRE_SERVER_HOST: flags.host,
      TASKWIRE_SERVER_PORT: flags.port,
      TASKWIRE_DATABASE_URL: flags["database-url"],
      TASKWIRE_API_KEY: flags["api-key"],
      TASKWIRE_LOG_LEVEL: flags["log-level"],
      TASKWIRE_TLS_CERT: flags["tls-cert"],
      TASKWIRE_TLS_KEY: flags["tls-key"],
    });
    const server = await startConfiguredServer(settings);
    await waitForShutdownSignal();
    await server.close();
    return 0;
  },
});

/** `taskwire server`: run the taskwire server. */
export const serverCommand = createCommandGroup({
  name: "server",
  summary: "Run the taskwire server",
  description: "Run the taskwire server, which stores task runs and hands them to workers.",
  commands: [startCommand],
});
