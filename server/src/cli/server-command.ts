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
                             [--tls-cert FILE --tls-key FILE] [--allowed-hosts NAMES]
                             [--max-connections N] [--max-streams-per-connection N]
                             [--handshake-timeout-ms MS] [--headers-timeout-ms MS]
                             [--request-timeout-ms MS] [--idle-timeout-ms MS]
                             [--lease-duration-ms MS]

Starts a taskwire server: gRPC, Connect, the web UI, /healthz and /metrics on one port.
Runs are stored in SQLite at $TASKWIRE_HOME/taskwire.db unless --database-url names
another SQLite file (one server per file) or a PostgreSQL database (any number of
servers, as peers; see docs/deployment.md). Stops gracefully on Ctrl-C (SIGINT) or
SIGTERM: workers are asked to drain, and what they cannot finish in time goes back to
the queue.

Options:
  --host HOST           Address to listen on (TASKWIRE_SERVER_HOST, default 127.0.0.1)
  --port PORT           Port to listen on (TASKWIRE_SERVER_PORT, default 7070)
  --database-url URL    sqlite:<path> or postgresql://user:password@host/db (TASKWIRE_DATABASE_URL)
  --api-key KEY         Require this key from every client (TASKWIRE_API_KEY)
  --log-level LEVEL     trace, debug, info, warn, error, fatal or silent (TASKWIRE_LOG_LEVEL)
  --tls-cert FILE       PEM certificate: serve HTTPS only (TASKWIRE_TLS_CERT)
  --tls-key FILE        PEM private key of --tls-cert (TASKWIRE_TLS_KEY)
  --allowed-hosts NAMES
                        Comma-separated host names clients may use besides IP addresses,
                        localhost and this machine's name; * for any (TASKWIRE_ALLOWED_HOSTS)
  --max-connections N   Connections open at once (TASKWIRE_MAX_CONNECTIONS, default 10000)
  --max-streams-per-connection N
                        HTTP/2 calls at once on one connection
                        (TASKWIRE_MAX_STREAMS_PER_CONNECTION, default 1000)
  --handshake-timeout-ms MS
                        First bytes or TLS handshake (TASKWIRE_HANDSHAKE_TIMEOUT_MS, default 10000)
  --headers-timeout-ms MS
                        HTTP/1.1 request headers (TASKWIRE_HEADERS_TIMEOUT_MS, default 10000)
  --request-timeout-ms MS
                        HTTP/1.1 whole request (TASKWIRE_REQUEST_TIMEOUT_MS, default 300000)
  --idle-timeout-ms MS  A connection with no call in progress (TASKWIRE_IDLE_TIMEOUT_MS,
                        default 65000)
  --lease-duration-ms MS
                        A run whose worker sends no heartbeat for this goes back to the
                        queue; workers heartbeat every sixth of it and must acknowledge an
                        assignment within half of it (TASKWIRE_LEASE_DURATION_MS, default 30000,
                        at most 86400000)`,
  flags: {
    host: { type: "string" },
    port: { type: "string" },
    "database-url": { type: "string" },
    "api-key": { type: "string" },
    "log-level": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "allowed-hosts": { type: "string" },
    "max-connections": { type: "string" },
    "max-streams-per-connection": { type: "string" },
    "handshake-timeout-ms": { type: "string" },
    "headers-timeout-ms": { type: "string" },
    "request-timeout-ms": { type: "string" },
    "idle-timeout-ms": { type: "string" },
    "lease-duration-ms": { type: "string" },
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
      TASKWIRE_ALLOWED_HOSTS: flags["allowed-hosts"],
      TASKWIRE_MAX_CONNECTIONS: flags["max-connections"],
      TASKWIRE_MAX_STREAMS_PER_CONNECTION: flags["max-streams-per-connection"],
      TASKWIRE_HANDSHAKE_TIMEOUT_MS: flags["handshake-timeout-ms"],
      TASKWIRE_HEADERS_TIMEOUT_MS: flags["headers-timeout-ms"],
      TASKWIRE_REQUEST_TIMEOUT_MS: flags["request-timeout-ms"],
      TASKWIRE_IDLE_TIMEOUT_MS: flags["idle-timeout-ms"],
      TASKWIRE_LEASE_DURATION_MS: flags["lease-duration-ms"],
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
