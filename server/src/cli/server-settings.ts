import { DEFAULT_LIMITS } from "../broker/broker-limits.js";
import { DEFAULT_CONNECTION_LIMITS } from "../http/connection-limits.js";
import type { SettingDefinition } from "taskwire";

/** The name of one setting only the server reads, as used in the environment and in `profiles.toml`. */
export type ServerSettingKey =
  | "TASKWIRE_SERVER_HOST"
  | "TASKWIRE_SERVER_PORT"
  | "TASKWIRE_DATABASE_URL"
  | "TASKWIRE_LOG_LEVEL"
  | "TASKWIRE_TLS_CERT"
  | "TASKWIRE_TLS_KEY"
  | "TASKWIRE_RETENTION_HOURS"
  | "TASKWIRE_MAX_PAYLOAD_BYTES"
  | "TASKWIRE_ALLOWED_HOSTS"
  | "TASKWIRE_MAX_CONNECTIONS"
  | "TASKWIRE_HANDSHAKE_TIMEOUT_MS"
  | "TASKWIRE_HEADERS_TIMEOUT_MS"
  | "TASKWIRE_REQUEST_TIMEOUT_MS"
  | "TASKWIRE_IDLE_TIMEOUT_MS"
  | "TASKWIRE_LEASE_DURATION_MS"
  | "TASKWIRE_MAX_STREAMS_PER_CONNECTION";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

const wholeNumberAtLeastOne = (value: string) =>
  Number.isInteger(Number(value)) && Number(value) >= 1 && value.trim() !== "" ? undefined : "is not a whole number >= 1";

/**
 * Every setting only the server reads, with its description, default and check. The SDK
 * defines the client settings (TASKWIRE_API_URL, TASKWIRE_API_KEY, …); `cli-settings.ts`
 * combines both.
 */
export const SERVER_SETTING_DEFINITIONS: Readonly<Record<ServerSettingKey, SettingDefinition>> = {
  TASKWIRE_SERVER_HOST: {
    description: "Address `taskwire server start` listens on.",
    default: "127.0.0.1",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_SERVER_PORT: {
    description: "Port `taskwire server start` listens on.",
    default: "7070",
    secret: false,
    inProfile: true,
    validate: (value) => {
      const port = Number(value);
      return Number.isInteger(port) && port >= 0 && port <= 65535 && value.trim() !== "" ? undefined : "is not a port number (0-65535)";
    },
  },
  TASKWIRE_DATABASE_URL: {
    description:
      "postgresql://… for PostgreSQL, or sqlite:<path>; unset means SQLite at $TASKWIRE_HOME/taskwire.db.",
    default: "",
    // A PostgreSQL URL usually carries a password.
    secret: true,
    inProfile: true,
  },
  TASKWIRE_LOG_LEVEL: {
    description: "One of trace, debug, info, warn, error, fatal, silent.",
    default: "info",
    secret: false,
    inProfile: true,
    validate: (value) => (LOG_LEVELS.includes(value) ? undefined : `is not one of ${LOG_LEVELS.join(", ")}`),
  },
  TASKWIRE_TLS_CERT: {
    description: "PEM certificate file: with TASKWIRE_TLS_KEY, the server serves HTTPS (gRPC over TLS) only.",
    default: "",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_TLS_KEY: {
    description: "PEM private key file of TASKWIRE_TLS_CERT.",
    default: "",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_RETENTION_HOURS: {
    description: "Finished runs, with their results and logs, are deleted this many hours after they end.",
    default: "168",
    secret: false,
    inProfile: true,
    validate: (value) => (Number(value) > 0 ? undefined : "is not a number of hours > 0"),
  },
  TASKWIRE_MAX_PAYLOAD_BYTES: {
    description: "Largest parameters or result the server accepts, in bytes (told to workers in Welcome).",
    // 4 MiB less 64 KiB: an assignment carrying the largest parameters still fits in the
    // 4 MiB a gRPC library receives by default.
    default: String(DEFAULT_LIMITS.maxPayloadBytes),
    secret: false,
    inProfile: true,
    validate: (value) =>
      Number.isInteger(Number(value)) && Number(value) >= 1024 ? undefined : "is not a whole number of bytes >= 1024",
  },
  TASKWIRE_ALLOWED_HOSTS: {
    description:
      "Comma-separated host names the server answers to besides IP addresses, localhost and its own name (`*.example.com` for subdomains, `*` for any).",
    default: "",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_MAX_CONNECTIONS: {
    description: "Connections the server holds open at once; more are closed as they arrive.",
    default: String(DEFAULT_CONNECTION_LIMITS.maxConnections),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
  TASKWIRE_HANDSHAKE_TIMEOUT_MS: {
    description: "A new connection must send its first bytes (or finish its TLS handshake) within this.",
    default: String(DEFAULT_CONNECTION_LIMITS.handshakeTimeoutMs),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
  TASKWIRE_HEADERS_TIMEOUT_MS: {
    description: "HTTP/1.1: a request's headers must arrive within this.",
    default: String(DEFAULT_CONNECTION_LIMITS.headersTimeoutMs),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
  TASKWIRE_REQUEST_TIMEOUT_MS: {
    description: "HTTP/1.1: a whole request must arrive within this (the response may stream for longer).",
    default: String(DEFAULT_CONNECTION_LIMITS.requestTimeoutMs),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
  TASKWIRE_IDLE_TIMEOUT_MS: {
    description: "A connection with no call in progress is closed after this.",
    default: String(DEFAULT_CONNECTION_LIMITS.idleTimeoutMs),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
  TASKWIRE_LEASE_DURATION_MS: {
    description:
      "A run whose worker sends no heartbeat for this goes back to the queue; workers heartbeat every sixth of it.",
    default: String(DEFAULT_LIMITS.leaseDurationMs),
    secret: false,
    inProfile: true,
    // At most a day: Welcome carries it as a uint32, and Node's timers fire at once past
    // 2^31 - 1 ms (24.8 days), which would expire every lease as soon as it is granted.
    validate: (value) =>
      Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 86_400_000 && value.trim() !== ""
        ? undefined
        : "is not a whole number of milliseconds from 1 to 86400000 (a day)",
  },
  TASKWIRE_MAX_STREAMS_PER_CONNECTION: {
    description: "HTTP/2: calls in progress at once on one connection.",
    default: String(DEFAULT_CONNECTION_LIMITS.maxConcurrentStreams),
    secret: false,
    inProfile: true,
    validate: wholeNumberAtLeastOne,
  },
};
