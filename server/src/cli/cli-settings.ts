import {
  loadSettingValues,
  type Profiles,
  readProfiles as readProfilesOf,
  SETTING_DEFINITIONS as CLIENT,
  type Settings as ClientSettings,
  type SettingDefinition,
  type SettingSource,
  type SettingValues,
  setProfileValues as setProfileValuesOf,
  unsetProfileValues as unsetProfileValuesOf,
  type SettingKey as ClientSettingKey,
} from "taskwire";
import { SERVER_SETTING_DEFINITIONS as SERVER, type ServerSettingKey } from "./server-settings.js";

export { taskwireHome } from "taskwire";

/** The name of any taskwire setting: the SDK's client settings and the server's own. */
export type SettingKey = ClientSettingKey | ServerSettingKey;

/**
 * Every taskwire setting, in the order `taskwire config view` and `config set --help` show
 * them: the client's and the server's, with each TLS file next to the others.
 */
export const SETTING_DEFINITIONS: Readonly<Record<SettingKey, SettingDefinition>> = {
  TASKWIRE_API_URL: CLIENT.TASKWIRE_API_URL,
  TASKWIRE_API_KEY: CLIENT.TASKWIRE_API_KEY,
  TASKWIRE_HOME: CLIENT.TASKWIRE_HOME,
  TASKWIRE_SERVER_HOST: SERVER.TASKWIRE_SERVER_HOST,
  TASKWIRE_SERVER_PORT: SERVER.TASKWIRE_SERVER_PORT,
  TASKWIRE_DATABASE_URL: SERVER.TASKWIRE_DATABASE_URL,
  TASKWIRE_LOG_LEVEL: SERVER.TASKWIRE_LOG_LEVEL,
  TASKWIRE_TLS_CERT: SERVER.TASKWIRE_TLS_CERT,
  TASKWIRE_TLS_KEY: SERVER.TASKWIRE_TLS_KEY,
  TASKWIRE_TLS_CA: CLIENT.TASKWIRE_TLS_CA,
  TASKWIRE_RETENTION_HOURS: SERVER.TASKWIRE_RETENTION_HOURS,
  TASKWIRE_MAX_PAYLOAD_BYTES: SERVER.TASKWIRE_MAX_PAYLOAD_BYTES,
  TASKWIRE_ALLOWED_HOSTS: SERVER.TASKWIRE_ALLOWED_HOSTS,
  TASKWIRE_MAX_CONNECTIONS: SERVER.TASKWIRE_MAX_CONNECTIONS,
  TASKWIRE_HANDSHAKE_TIMEOUT_MS: SERVER.TASKWIRE_HANDSHAKE_TIMEOUT_MS,
  TASKWIRE_HEADERS_TIMEOUT_MS: SERVER.TASKWIRE_HEADERS_TIMEOUT_MS,
  TASKWIRE_REQUEST_TIMEOUT_MS: SERVER.TASKWIRE_REQUEST_TIMEOUT_MS,
  TASKWIRE_IDLE_TIMEOUT_MS: SERVER.TASKWIRE_IDLE_TIMEOUT_MS,
  TASKWIRE_LEASE_DURATION_MS: SERVER.TASKWIRE_LEASE_DURATION_MS,
  TASKWIRE_MAX_STREAMS_PER_CONNECTION: SERVER.TASKWIRE_MAX_STREAMS_PER_CONNECTION,
  TASKWIRE_PROFILE: CLIENT.TASKWIRE_PROFILE,
};

/** Every setting key, in the order `taskwire config view` shows them. */
export const SETTING_KEYS: readonly SettingKey[] = Object.keys(SETTING_DEFINITIONS) as SettingKey[];

/** The resolved configuration of the CLI and the server: the client's, plus the server's own. */
export interface Settings extends Omit<ClientSettings, "value" | "source"> {
  readonly serverHost: string;
  readonly serverPort: number;
  readonly databaseUrl: string | undefined;
  readonly logLevel: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Hours a finished run is kept. */
  readonly retentionHours: number;
  readonly maxPayloadBytes: number;
  /** How long a lease lasts without a heartbeat. */
  readonly leaseDurationMs: number;
  /** Host names the server answers to besides its defaults; empty when none are listed. */
  readonly allowedHosts: readonly string[];
  /** How many connections, how slow and how idle, the server allows. */
  readonly connectionLimits: {
    readonly maxConnections: number;
    readonly handshakeTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly maxConcurrentStreams: number;
  };
  /** The resolved value of a setting as a string; "" when unset. */
  value(key: SettingKey): string;
  /** Where the value of a setting came from. */
  source(key: SettingKey): SettingSource;
}

/**
 * Resolves every setting: flags, then the environment (`TASKWIRE_*`), then the active
 * profile of `$TASKWIRE_HOME/profiles.toml`, then the defaults.
 *
 * @throws Error when profiles.toml is malformed, sets a key that is no setting, or a value
 * is invalid (a port that is not a number, an unknown log level); the message names the
 * setting and where its value came from.
 * @example
 * ```ts
 * const settings = loadSettings({ flags: { TASKWIRE_SERVER_PORT: "8080" } });
 * settings.serverPort;                        // 8080
 * settings.source("TASKWIRE_SERVER_PORT");    // "flag"
 * ```
 */
export function loadSettings(options: { flags?: SettingValues<SettingKey>; env?: NodeJS.ProcessEnv } = {}): Settings {
  const resolved = loadSettingValues(SETTING_DEFINITIONS, options);
  const value = resolved.value;
  const number = (key: SettingKey) => Number(value(key));
  const optional = (key: SettingKey) => (value(key) === "" ? undefined : value(key));
  return {
    ...resolved,
    apiUrl: value("TASKWIRE_API_URL"),
    apiKey: optional("TASKWIRE_API_KEY"),
    tlsCa: optional("TASKWIRE_TLS_CA"),
    serverHost: value("TASKWIRE_SERVER_HOST"),
    serverPort: number("TASKWIRE_SERVER_PORT"),
    databaseUrl: optional("TASKWIRE_DATABASE_URL"),
    logLevel: value("TASKWIRE_LOG_LEVEL"),
    tlsCert: optional("TASKWIRE_TLS_CERT"),
    tlsKey: optional("TASKWIRE_TLS_KEY"),
    retentionHours: number("TASKWIRE_RETENTION_HOURS"),
    maxPayloadBytes: number("TASKWIRE_MAX_PAYLOAD_BYTES"),
    leaseDurationMs: number("TASKWIRE_LEASE_DURATION_MS"),
    allowedHosts: value("TASKWIRE_ALLOWED_HOSTS")
      .split(",")
      .map((host) => host.trim())
      .filter(Boolean),
    connectionLimits: {
      maxConnections: number("TASKWIRE_MAX_CONNECTIONS"),
      handshakeTimeoutMs: number("TASKWIRE_HANDSHAKE_TIMEOUT_MS"),
      headersTimeoutMs: number("TASKWIRE_HEADERS_TIMEOUT_MS"),
      requestTimeoutMs: number("TASKWIRE_REQUEST_TIMEOUT_MS"),
      idleTimeoutMs: number("TASKWIRE_IDLE_TIMEOUT_MS"),
      maxConcurrentStreams: number("TASKWIRE_MAX_STREAMS_PER_CONNECTION"),
    },
  };
}

/** `<home>/profiles.toml`, refusing any key that is not a taskwire setting. */
export function readProfiles(home: string): Profiles {
  return readProfilesOf(home, SETTING_DEFINITIONS);
}

/** Sets any taskwire setting in a profile of `<home>/profiles.toml` (see the SDK's `setProfileValues`). */
export function setProfileValues(home: string, values: Partial<Record<SettingKey, string>>, options: { profile?: string } = {}): void {
  setProfileValuesOf(home, SETTING_DEFINITIONS, values, options);
}

/** Removes taskwire settings from a profile of `<home>/profiles.toml` (see the SDK's `unsetProfileValues`). */
export function unsetProfileValues(home: string, keys: readonly string[], options: { profile?: string } = {}): SettingKey[] {
  return unsetProfileValuesOf(home, SETTING_DEFINITIONS, keys, options) as SettingKey[];
}
