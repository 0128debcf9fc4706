import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { readProfiles } from "./profiles-file.js";

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
  /** Why a value is invalid ("is not a port number"), or undefined when it is valid. */
  readonly validate?: (value: string) => string | undefined;
}

/**
 * A table of settings keyed by name. The SDK defines the client's; a program such as the
 * server adds its own and passes the combined table to the loader and the profile functions.
 */
export type SettingDefinitions<K extends string = string> = Readonly<Record<K, SettingDefinition>>;

/** Values given for some settings, keyed by setting; `undefined` and "" mean not given. */
export type SettingValues<K extends string = string> = Partial<Record<K, string | undefined>>;

/** Every setting of a table resolved to a string, with where each came from. */
export interface ResolvedSettings<K extends string> {
  readonly home: string;
  /** The profile of profiles.toml that was read (it need not exist in the file). */
  readonly profile: string;
  /** The resolved value of a setting as a string; "" when unset. */
  value(key: K): string;
  /** Where the value of a setting came from. */
  source(key: K): SettingSource;
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
  return expandHome(nonEmpty(env.TASKWIRE_HOME) ?? join(homedir(), ".taskwire"));
}

/**
 * Resolves every setting of `definitions`: flags, then the environment (`TASKWIRE_*`),
 * then the active profile of `$TASKWIRE_HOME/profiles.toml`, then the defaults. The table
 * must hold TASKWIRE_HOME and TASKWIRE_PROFILE, which choose the profile read.
 *
 * @param options.unknownProfileKeys "ignore" for a program that knows only some settings,
 *   so that a profile written for another (the server's port) does not stop it.
 * @throws Error when profiles.toml is malformed or a value is invalid; the message names
 *   the setting and where its value came from.
 */
export function loadSettingValues<K extends string>(
  definitions: SettingDefinitions<K>,
  options: { flags?: SettingValues<K>; env?: NodeJS.ProcessEnv; unknownProfileKeys?: "refuse" | "ignore" } = {},
): ResolvedSettings<K> {
  const flags: SettingValues = options.flags ?? {};
  const env = options.env ?? process.env;
  const all: SettingDefinitions = definitions;
  const keys = Object.keys(definitions);

  // The home and the profile choose which file to read, so no profile can set them.
  const home = expandHome(nonEmpty(flags.TASKWIRE_HOME) ?? taskwireHome(env));
  const profiles = readProfiles(home, definitions, { unknownKeys: options.unknownProfileKeys });
  const profile = nonEmpty(flags.TASKWIRE_PROFILE) ?? nonEmpty(env.TASKWIRE_PROFILE) ?? profiles.active;
  const fromProfile: Partial<Record<string, string>> = profiles.profiles[profile] ?? {};

  const values: Record<string, string> = {};
  const sources: Record<string, SettingSource> = {};
  for (const key of keys) {
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
      values[key] = all[key].default;
      sources[key] = "default";
    }
  }
  values.TASKWIRE_HOME = home;
  values.TASKWIRE_PROFILE = profile;
  if (sources.TASKWIRE_PROFILE === "default" && profile !== "default") {
    // Chosen by the file's `active`, which is part of the profiles file.
    sources.TASKWIRE_PROFILE = "profile";
  }

  const origin = (key: string) => (sources[key] === "profile" ? `profile '${profile}' in ${profiles.path}` : sources[key]);
  for (const key of keys) {
    const problem = all[key].validate?.(values[key]);
    if (problem !== undefined) {
      throw new Error(`${key}=${JSON.stringify(values[key])} (from ${origin(key)}) ${problem}`);
    }
  }

  return { home, profile, value: (key) => values[key], source: (key) => sources[key] };
}

/** `value`, or undefined when it is undefined or "" (not given). */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** `path` made absolute, with a leading `~` standing for the user's home directory. */
export function expandHome(path: string): string {
  return resolve(path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path);
}
