import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { expandHome, type SettingDefinitions } from "./settings-loader.js";

/** The contents of `$TASKWIRE_HOME/profiles.toml`. */
export interface Profiles {
  /** The file read; it may not exist. */
  readonly path: string;
  /** The profile used unless TASKWIRE_PROFILE names another; "default" when the file has none. */
  readonly active: string;
  readonly profiles: Readonly<Record<string, Readonly<Partial<Record<string, string>>>>>;
}

/**
 * Reads `<home>/profiles.toml`. A missing file reads as no profiles, with "default" active.
 *
 * @param options.unknownKeys "ignore" leaves out keys that are not in `definitions`
 *   (settings of another program); by default they are refused.
 * @throws Error naming the file when it is not valid TOML, does not have the shape
 * `active = "…"` plus `[profiles.<name>]` tables, or sets a key that is not a setting.
 */
export function readProfiles(
  home: string,
  definitions: SettingDefinitions,
  options: { unknownKeys?: "refuse" | "ignore" } = {},
): Profiles {
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
  const profiles: Record<string, Partial<Record<string, string>>> = {};
  for (const [name, table] of Object.entries(tables)) {
    if (!isTable(table)) {
      throw new Error(`${path}: profiles.${name} must be a table of TASKWIRE_* settings`);
    }
    const values: Partial<Record<string, string>> = {};
    for (const [key, value] of Object.entries(table)) {
      if (options.unknownKeys === "ignore" && !(key in definitions)) {
        continue;
      }
      const problem = profileKeyProblem(definitions, key);
      if (problem !== undefined) {
        throw new Error(`${path}: profile '${name}': ${problem}`);
      }
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        throw new Error(`${path}: profile '${name}': ${key} must be a string, number or boolean`);
      }
      values[key] = String(value);
    }
    profiles[name] = values;
  }
  return { path, active, profiles };
}

/**
 * Sets values in one profile of `<home>/profiles.toml`, creating the file, the directory
 * and the profile as needed. The profile is `options.profile`, else the file's active one.
 *
 * @throws Error naming the key when it is not a setting of `definitions` a profile can
 * hold, or when a value is invalid; nothing is written then.
 * @example
 * ```ts
 * setProfileValues(taskwireHome(), SETTING_DEFINITIONS, { TASKWIRE_API_URL: "http://10.0.0.5:7070" });
 * ```
 */
export function setProfileValues(
  home: string,
  definitions: SettingDefinitions,
  values: Partial<Record<string, string>>,
  options: { profile?: string } = {},
): void {
  for (const [key, value] of Object.entries(values)) {
    const keyProblem = profileKeyProblem(definitions, key);
    if (keyProblem !== undefined) {
      throw new Error(keyProblem);
    }
    const valueProblem = definitions[key].validate?.(value ?? "");
    if (valueProblem !== undefined) {
      throw new Error(`${key}=${JSON.stringify(value)} ${valueProblem}`);
    }
  }
  const current = readProfiles(home, definitions);
  const profile = options.profile ?? current.active;
  writeProfiles(current, profile, { ...current.profiles[profile], ...values });
}

/**
 * Removes keys from one profile of `<home>/profiles.toml` (`options.profile`, else the
 * file's active one).
 *
 * @returns the keys that were set and are now removed; keys that were not set are left out.
 * @throws Error naming the key when it is not a setting of `definitions` a profile can hold.
 */
export function unsetProfileValues(
  home: string,
  definitions: SettingDefinitions,
  keys: readonly string[],
  options: { profile?: string } = {},
): string[] {
  for (const key of keys) {
    const problem = profileKeyProblem(definitions, key);
    if (problem !== undefined) {
      throw new Error(problem);
    }
  }
  const current = readProfiles(home, definitions);
  const profile = options.profile ?? current.active;
  const values = { ...current.profiles[profile] };
  const removed = keys.filter((key) => values[key] !== undefined);
  if (removed.length === 0) {
    return [];
  }
  for (const key of removed) {
    delete values[key];
  }
  writeProfiles(current, profile, values);
  return removed;
}

function writeProfiles(current: Profiles, profile: string, values: Partial<Record<string, string>>): void {
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

function profileKeyProblem(definitions: SettingDefinitions, key: string): string | undefined {
  if (!(key in definitions)) {
    const valid = Object.keys(definitions)
      .filter((k) => definitions[k].inProfile)
      .join(", ");
    return `unknown setting "${key}"; valid settings are ${valid}`;
  }
  if (!definitions[key].inProfile) {
    return `${key} cannot be set in a profile, since it chooses where profiles are read from; set it in the environment instead`;
  }
  return undefined;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
