import { homedir } from "node:os";
import { join } from "node:path";
import { loadSettingValues, nonEmpty, type SettingDefinition, type SettingSource, type SettingValues } from "./settings-loader.js";

/** The name of one client setting, as used in the environment and in `profiles.toml`. */
export type SettingKey = "TASKWIRE_API_URL" | "TASKWIRE_API_KEY" | "TASKWIRE_HOME" | "TASKWIRE_TLS_CA" | "TASKWIRE_PROFILE";

/**
 * Every setting an SDK client reads, with its description and default. The server's own
 * settings (its port, database, certificate) are defined by the server, which adds them
 * to these.
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
    validate: (value) =>
      value.split(",").every((url) => /^https?:\/\//.test(url.trim()) && URL.canParse(url.trim()))
        ? undefined
        : "is not an http:// or https:// URL (or several, comma-separated)",
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
  TASKWIRE_TLS_CA: {
    description: "PEM file of a CA that clients trust besides the system's (a self-signed server certificate).",
    default: "",
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

/** Every client setting key. */
export const SETTING_KEYS: readonly SettingKey[] = Object.keys(SETTING_DEFINITIONS) as SettingKey[];

/** The resolved client configuration. */
export interface Settings {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly home: string;
  readonly tlsCa: string | undefined;
  /** The profile of profiles.toml that was read (it need not exist in the file). */
  readonly profile: string;
  /** The resolved value of a setting as a string; "" when unset. */
  value(key: SettingKey): string;
  /** Where the value of a setting came from. */
  source(key: SettingKey): SettingSource;
}

/**
 * Resolves the client configuration: flags, then the environment (`TASKWIRE_*`), then the
 * active profile of `$TASKWIRE_HOME/profiles.toml`, then the defaults. Keys of the profile
 * that are not client settings (the server's) are left to the program that defines them.
 *
 * @throws Error when profiles.toml is malformed or a value is invalid (a URL that does not
 * parse); the message names the setting and where its value came from.
 * @example
 * ```ts
 * const settings = loadSettings({ flags: { TASKWIRE_API_URL: "http://10.0.0.5:7070" } });
 * settings.apiUrl;                        // "http://10.0.0.5:7070"
 * settings.source("TASKWIRE_API_URL");    // "flag"
 * ```
 */
export function loadSettings(options: { flags?: SettingValues<SettingKey>; env?: NodeJS.ProcessEnv } = {}): Settings {
  const resolved = loadSettingValues(SETTING_DEFINITIONS, { ...options, unknownProfileKeys: "ignore" });
  return {
    ...resolved,
    apiUrl: resolved.value("TASKWIRE_API_URL"),
    apiKey: nonEmpty(resolved.value("TASKWIRE_API_KEY")),
    tlsCa: nonEmpty(resolved.value("TASKWIRE_TLS_CA")),
  };
}
