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

Starts a taskwire server: gRPC, Connect, the web UI, /healthz and /metrics on one port.
Runs are stored in SQLite at $TASKWIRE_HOME/taskwire.db unless --database-url names a
PostgreSQL database. Stops gracefully on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --host HOST           Address to listen on (TASKWIRE_SERVER_HOST, default 127.0.0.1)
  --port PORT           Port to listen on (TASKWIRE_SERVER_PORT, default 7070)
  --database-url URL    postgresql://… or sqlite:<path> (TASKWIRE_DATABASE_URL)
  --api-key KEY         Require this key from every client (TASKWIRE_API_KEY)
  --log-level LEVEL     trace, debug, info, warn, error, fatal or silent (TASKWIRE_LOG_LEVEL)`,
  flags: {
    host: { type: "string" },
    port: { type: "string" },
    "database-url": { type: "string" },
    "api-key": { type: "string" },
    "log-level": { type: "string" },
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
