import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse, stringify } from "smol-toml";

/** The name of one taskwire setting, as used in the environment and in `profiles.toml`. */
export type SettingKey =
  | "TASKWIRE_API_URL"
  | "TASKWIRE_API_KEY"
  | "TASKWIRE_HOME"
  | "TASKWIRE_SERVER_HOST"
  | "TASKWIRE_SERVER_PORT"
  | "TASKWIRE_DATABASE_URL"
  | "TASKWIRE_LOG_LEVEL"
  | "TASKWIRE_TLS_CERT"
  | "TASKWIRE_TLS_KEY"
  | "TASKWIRE_TLS_CA"
  | "TASKWIRE_RETENTION_HOURS"
  | "TASKWIRE_MAX_PAYLOAD_BYTES"
  | "TASKWIRE_ALLOWED_HOSTS"
  | "TASKWIRE_MAX_CONNECTIONS"
  | "TASKWIRE_HANDSHAKE_TIMEOUT_MS"
  | "TASKWIRE_HEADERS_TIMEOUT_MS"
  | "TASKWIRE_REQUEST_TIMEOUT_MS"
  | "TASKWIRE_IDLE_TIMEOUT_MS"
  | "TASKWIRE_LEASE_DURATION_MS"
  | "TASKWIRE_MAX_STREAMS_PER_CONNECTION"
  | "TASKWIRE_PROFILE";

/** Where the value of a setting came from, highest precedence first. */
export type SettingSource = "flag" | "environment" | "profile" | "default";

/** What a setting means, its default, and whether it must be masked when shown. */
export interface SettingDefinition {
  readonly description: string;
  /** The value used when no flag, environment variable or profile sets it; "" means unset. */
  readonly default: string;
  /** Shown masked by `taskwire config view`. */
  readonly secret: boolean;
  /**
   * False for settings that choose where profiles are read from, which a profile
   * therefore cannot set.
   */
  readonly inProfile: boolean;
}

/**
 * Every taskwire setting with its description and default.
 *
 * @example
 * ```ts
 * console.log(SETTING_DEFINITIONS.TASKWIRE_API_URL.default); // "http://127.0.0.1:7070"
 * ```
 */
export const SETTING_DEFINITIONS: Readonly<Record<SettingKey, SettingDefinition>> = {
  TASKWIRE_API_URL: {
    description:
      "URL of the taskwire server that SDKs, workers and the CLI talk to; several, comma-separated, for servers sharing one database (a worker moves to the next on reconnect).",
    default: "http://127.0.0.1:7070",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_API_KEY: {
    description: "API key sent as a bearer token; when the server has one, it requires it.",
    default: "",
    secret: true,
    inProfile: true,
  },
  TASKWIRE_HOME: {
    description: "Directory holding profiles.toml and the default SQLite database.",
    default: join(homedir(), ".taskwire"),
    secret: false,
    inProfile: false,
  },
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
  TASKWIRE_TLS_CA: {
    description: "PEM file of a CA that clients trust besides the system's (a self-signed server certificate).",
    default: "",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_RETENTION_HOURS: {
    description: "Finished runs, with their results and logs, are deleted this many hours after they end.",
    default: "168",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_MAX_PAYLOAD_BYTES: {
    description: "Largest parameters or result the server accepts, in bytes (told to workers in Welcome).",
    // 4 MiB less 64 KiB: an assignment carrying the largest parameters still fits in the
    // 4 MiB a gRPC library receives by default.
    default: String(4 * 1024 * 1024 - 64 * 1024),
    secret: false,
    inProfile: true,
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
    default: "10000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_HANDSHAKE_TIMEOUT_MS: {
    description: "A new connection must send its first bytes (or finish its TLS handshake) within this.",
    default: "10000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_HEADERS_TIMEOUT_MS: {
    description: "HTTP/1.1: a request's headers must arrive within this.",
    default: "10000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_REQUEST_TIMEOUT_MS: {
    description: "HTTP/1.1: a whole request must arrive within this (the response may stream for longer).",
    default: "300000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_IDLE_TIMEOUT_MS: {
    description: "A connection with no call in progress is closed after this.",
    default: "65000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_LEASE_DURATION_MS: {
    description:
      "A run whose worker sends no heartbeat for this goes back to the queue; workers heartbeat every sixth of it.",
    default: "30000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_MAX_STREAMS_PER_CONNECTION: {
    description: "HTTP/2: calls in progress at once on one connection.",
    default: "1000",
    secret: false,
    inProfile: true,
  },
  TASKWIRE_PROFILE: {
    description: "Profile of profiles.toml to use instead of its `active` one.",
    default: "",
    secret: false,
    inProfile: false,
  },
};

/** Every setting key, in the order `taskwire config view` shows them. */
export const SETTING_KEYS: readonly SettingKey[] = Object.keys(SETTING_DEFINITIONS) as SettingKey[];

/** The default of every setting; "" means unset. */
export const SETTING_DEFAULTS: Readonly<Record<SettingKey, string>> = Object.fromEntries(
  SETTING_KEYS.map((key) => [key, SETTING_DEFINITIONS[key].default]),
) as Record<SettingKey, string>;

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Values given for some settings, keyed by setting; `undefined` and "" mean not given. */
export type SettingValues = Partial<Record<SettingKey, string | undefined>>;

/** The resolved taskwire configuration. */
export interface Settings {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly home: string;
  readonly serverHost: string;
  readonly serverPort: number;
  readonly databaseUrl: string | undefined;
  readonly logLevel: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsCa: string | undefined;
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
  /** The profile of profiles.toml that was read (it need not exist in the file). */
  readonly profile: string;
  /** The resolved value of a setting as a string; "" when unset. */
  value(key: SettingKey): string;
  /** Where the value of a setting came from. */
  source(key: SettingKey): SettingSource;
}

/** The contents of `$TASKWIRE_HOME/profiles.toml`. */
export interface Profiles {
  /** The file read; it may not exist. */
  readonly path: string;
  /** The profile used unless TASKWIRE_PROFILE names another; "default" when the file has none. */
  readonly active: string;
  readonly profiles: Readonly<Record<string, Readonly<Partial<Record<SettingKey, string>>>>>;
}

/**
 * The taskwire home directory: `TASKWIRE_HOME` from the environment, or `~/.taskwire`.
 *
 * @example
 * ```ts
 * taskwireHome({ TASKWIRE_HOME: "/srv/taskwire" }); // "/srv/taskwire"
 * ```
 */
export function taskwireHome(env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(nonEmpty(env.TASKWIRE_HOME) ?? SETTING_DEFAULTS.TASKWIRE_HOME);
}

/**
 * Resolves the configuration: flags, then the environment (`TASKWIRE_*`), then the active
 * profile of `$TASKWIRE_HOME/profiles.toml`, then the defaults.
 *
 * @throws Error when profiles.toml is malformed or a value is invalid (a port that is not
 * a number, a URL that does not parse, an unknown log level); the message names the
 * setting and where its value came from.
 * @example
 * ```ts
 * const settings = loadSettings({ flags: { TASKWIRE_SERVER_PORT: "8080" } });
 * settings.serverPort;                        // 8080
 * settings.source("TASKWIRE_SERVER_PORT");    // "flag"
 * ```
 */
export function loadSettings(options: { flags?: SettingValues; env?: NodeJS.ProcessEnv } = {}): Settings {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;

  // The home and the profile choose which file to read, so no profile can set them.
  const home = expandHome(nonEmpty(flags.TASKWIRE_HOME) ?? taskwireHome(env));
  const profiles = readProfiles(home);
  const profile = nonEmpty(flags.TASKWIRE_PROFILE) ?? nonEmpty(env.TASKWIRE_PROFILE) ?? profiles.active;
  const fromProfile = profiles.profiles[profile] ?? {};

  const values = {} as Record<SettingKey, string>;
  const sources = {} as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    const flag = nonEmpty(flags[key]);
    const fromEnv = nonEmpty(env[key]);
    const inProfile = nonEmpty(fromProfile[key]);
    if (flag !== undefined) {
      values[key] = flag;
      sources[key] = "flag";
    } else if (fromEnv !== undefined) {
      values[key] = fromEnv;
      sources[key] = "environment";
    } else if (inProfile !== undefined) {
      values[key] = inProfile;
      sources[key] = "profile";
    } else {
      values[key] = SETTING_DEFAULTS[key];
      sources[key] = "default";
    }
  }
  values.TASKWIRE_HOME = home;
  values.TASKWIRE_PROFILE = profile;
  if (sources.TASKWIRE_PROFILE === "default" && profile !== "default") {
    // Chosen by the file's `active`, which is part of the profiles file.
    sources.TASKWIRE_PROFILE = "profile";
  }

  const origin = (key: SettingKey) =>
    sources[key] === "profile" ? `profile '${profile}' in ${profiles.path}` : sources[key];
  for (const key of SETTING_KEYS) {
    const problem = validateSetting(key, values[key]);
    if (problem !== undefined) {
      throw new Error(`${key}=${JSON.stringify(values[key])} (from ${origin(key)}) ${problem}`);
    }
  }

  return {
    apiUrl: values.TASKWIRE_API_URL,
    apiKey: nonEmpty(values.TASKWIRE_API_KEY),
    home,
    serverHost: values.TASKWIRE_SERVER_HOST,
    serverPort: Number(values.TASKWIRE_SERVER_PORT),
    databaseUrl: nonEmpty(values.TASKWIRE_DATABASE_URL),
    logLevel: values.TASKWIRE_LOG_LEVEL,
    tlsCert: nonEmpty(values.TASKWIRE_TLS_CERT),
    tlsKey: nonEmpty(values.TASKWIRE_TLS_KEY),
    tlsCa: nonEmpty(values.TASKWIRE_TLS_CA),
    retentionHours: Number(values.TASKWIRE_RETENTION_HOURS),
    maxPayloadBytes: Number(values.TASKWIRE_MAX_PAYLOAD_BYTES),
    leaseDurationMs: Number(values.TASKWIRE_LEASE_DURATION_MS),
    allowedHosts: values.TASKWIRE_ALLOWED_HOSTS.split(",").map((host) => host.trim()).filter(Boolean),
    connectionLimits: {
      maxConnections: Number(values.TASKWIRE_MAX_CONNECTIONS),
      handshakeTimeoutMs: Number(values.TASKWIRE_HANDSHAKE_TIMEOUT_MS),
      headersTimeoutMs: Number(values.TASKWIRE_HEADERS_TIMEOUT_MS),
      requestTimeoutMs: Number(values.TASKWIRE_REQUEST_TIMEOUT_MS),
      idleTimeoutMs: Number(values.TASKWIRE_IDLE_TIMEOUT_MS),
      maxConcurrentStreams: Number(values.TASKWIRE_MAX_STREAMS_PER_CONNECTION),
    },
    profile,
    value: (key) => values[key],
    source: (key) => sources[key],
  };
}

/**
 * Reads `<home>/profiles.toml`. A missing file reads as no profiles, with "default" active.
 *
 * @throws Error naming the file when it is not valid TOML, does not have the shape
 * `active = "…"` plus `[profiles.<name>]` tables, or sets a key that is not a setting.
 */
export function readProfiles(home: string): Profiles {
  const path = profilesPath(home);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { path, active: "default", profiles: {} };
    }
    throw error;
  }

  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid TOML: ${(error as Error).message}`);
  }

  const active = document.active ?? "default";
  if (typeof active !== "string" || active === "") {
    throw new Error(`${path}: \`active\` must be a profile name (a non-empty string)`);
  }
  const tables = document.profiles ?? {};
  if (!isTable(tables)) {
    throw new Error(`${path}: \`profiles\` must be a table of [profiles.<name>] tables`);
  }
  const profiles: Record<string, Partial<Record<SettingKey, string>>> = {};
  for (const [name, table] of Object.entries(tables)) {
    if (!isTable(table)) {
      throw new Error(`${path}: profiles.${name} must be a table of TASKWIRE_* settings`);
    }
    const values: Partial<Record<SettingKey, string>> = {};
    for (const [key, value] of Object.entries(table)) {
      const problem = profileKeyProblem(key);
      if (problem !== undefined) {
        throw new Error(`${path}: profile '${name}': ${problem}`);
      }
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        throw new Error(`${path}: profile '${name}': ${key} must be a string, number or boolean`);
      }
      values[key as SettingKey] = String(value);
    }
    profiles[name] = values;
  }
  return { path, active, profiles };
}

/**
 * Sets values in one profile of `<home>/profiles.toml`, creating the file, the directory
 * and the profile as needed. The profile is `options.profile`, else the file's active one.
 *
 * @throws Error naming the key when it is not a setting a profile can hold, or when a
 * value is invalid; nothing is written then.
 * @example
 * ```ts
 * setProfileValues(taskwireHome(), { TASKWIRE_API_URL: "http://10.0.0.5:7070" });
 * ```
 */
export function setProfileValues(
  home: string,
  values: Partial<Record<SettingKey, string>>,
  options: { profile?: string } = {},
): void {
  for (const [key, value] of Object.entries(values)) {
    const keyProblem = profileKeyProblem(key);
    if (keyProblem !== undefined) {
      throw new Error(keyProblem);
    }
    const valueProblem = validateSetting(key as SettingKey, value ?? "");
    if (valueProblem !== undefined) {
      throw new Error(`${key}=${JSON.stringify(value)} ${valueProblem}`);
    }
  }
  const current = readProfiles(home);
  const profile = options.profile ?? current.active;
  writeProfiles(current, profile, { ...current.profiles[profile], ...values });
}

/**
 * Removes keys from one profile of `<home>/profiles.toml` (`options.profile`, else the
 * file's active one).
 *
 * @returns the keys that were set and are now removed; keys that were not set are left out.
 * @throws Error naming the key when it is not a setting a profile can hold.
 */
export function unsetProfileValues(
  home: string,
  keys: readonly string[],
  options: { profile?: string } = {},
): SettingKey[] {
  for (const key of keys) {
    const problem = profileKeyProblem(key);
    if (problem !== undefined) {
      throw new Error(problem);
    }
  }
  const current = readProfiles(home);
  const profile = options.profile ?? current.active;
  const values = { ...current.profiles[profile] };
  const removed = (keys as SettingKey[]).filter((key) => values[key] !== undefined);
  if (removed.length === 0) {
    return [];
  }
  for (const key of removed) {
    delete values[key];
  }
  writeProfiles(current, profile, values);
  return removed;
}

function writeProfiles(
  current: Profiles,
  profile: string,
  values: Partial<Record<SettingKey, string>>,
): void {
  const document = {
    active: current.active,
    profiles: { ...current.profiles, [profile]: values },
  };
  mkdirSync(dirname(current.path), { recursive: true });
  // Write then rename, so a crash or a concurrent reader never sees half a file; 0600
  // because a profile may hold an API key or a database password.
  const temporary = `${current.path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${stringify(document).trimEnd()}\n`, { mode: 0o600 });
  renameSync(temporary, current.path);
}

function profilesPath(home: string): string {
  return join(expandHome(home), "profiles.toml");
}

function profileKeyProblem(key: string): string | undefined {
  if (!(key in SETTING_DEFINITIONS)) {
    const valid = SETTING_KEYS.filter((k) => SETTING_DEFINITIONS[k].inProfile).join(", ");
    return `unknown setting "${key}"; valid settings are ${valid}`;
  }
  if (!SETTING_DEFINITIONS[key as SettingKey].inProfile) {
    return `${key} cannot be set in a profile, since it chooses where profiles are read from; set it in the environment instead`;
  }
  return undefined;
}

function validateSetting(key: SettingKey, value: string): string | undefined {
  switch (key) {
    case "TASKWIRE_SERVER_PORT": {
      const port = Number(value);
      return Number.isInteger(port) && port >= 0 && port <= 65535 && value.trim() !== ""
        ? undefined
        : "is not a port number (0-65535)";
    }
    case "TASKWIRE_API_URL":
      return value.split(",").every((url) => /^https?:\/\//.test(url.trim()) && URL.canParse(url.trim()))
        ? undefined
        : "is not an http:// or https:// URL (or several, comma-separated)";
    case "TASKWIRE_LOG_LEVEL":
      return LOG_LEVELS.includes(value) ? undefined : `is not one of ${LOG_LEVELS.join(", ")}`;
    case "TASKWIRE_RETENTION_HOURS":
      return Number(value) > 0 ? undefined : "is not a number of hours > 0";
    case "TASKWIRE_MAX_PAYLOAD_BYTES":
      return Number.isInteger(Number(value)) && Number(value) >= 1024 ? undefined : "is not a whole number of bytes >= 1024";
    case "TASKWIRE_LEASE_DURATION_MS":
      // At most a day: Welcome carries it as a uint32, and Node's timers fire at once past
      // 2^31 - 1 ms (24.8 days), which would expire every lease as soon as it is granted.
      return Number.isInteger(Number(value)) && Number(value) >= 1 && Number(value) <= 86_400_000 && value.trim() !== ""
        ? undefined
        : "is not a whole number of milliseconds from 1 to 86400000 (a day)";
    case "TASKWIRE_MAX_CONNECTIONS":
    case "TASKWIRE_MAX_STREAMS_PER_CONNECTION":
    case "TASKWIRE_HANDSHAKE_TIMEOUT_MS":
    case "TASKWIRE_HEADERS_TIMEOUT_MS":
    case "TASKWIRE_IDLE_TIMEOUT_MS":
    case "TASKWIRE_REQUEST_TIMEOUT_MS":
      return Number.isInteger(Number(value)) && Number(value) >= 1 && value.trim() !== "" ? undefined : "is not a whole number >= 1";
    default:
      return undefined;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function expandHome(path: string): string {
  return resolve(path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);
}
