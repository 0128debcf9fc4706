import type { SettingSource } from "taskwire";
import { CliError, UsageError } from "./cli-error.js";
import {
  type SettingKey,
  SETTING_DEFINITIONS,
  SETTING_KEYS,
  readProfiles,
  setProfileValues,
  taskwireHome,
  unsetProfileValues,
} from "./cli-settings.js";
import { createCommand } from "./command.js";
import { createCommandGroup } from "./command-group.js";
import { redactSecret } from "./redact-secret.js";
import { resolveSettings } from "./resolve-settings.js";

const profileKeys = SETTING_KEYS.filter((key) => SETTING_DEFINITIONS[key].inProfile);
// Padded to the longest key plus two spaces, so a long key never runs into its text.
const keyWidth = Math.max(...profileKeys.map((key) => key.length)) + 2;
const settingsList = profileKeys.map((key) => `  ${key.padEnd(keyWidth)}${SETTING_DEFINITIONS[key].description}`).join("\n");

const setCommand = createCommand({
  name: "config set",
  summary: "Set settings in the active profile",
  usage: `Usage: taskwire config set KEY=VALUE [KEY=VALUE...]

Sets settings in the active profile of $TASKWIRE_HOME/profiles.toml (the profile named
by TASKWIRE_PROFILE, else the file's \`active\` one), creating the file if needed.

Settings:
${settingsList}

Example:
  taskwire config set TASKWIRE_API_URL=http://10.0.0.5:7070`,
  flags: {},
  async run(_flags, positionals, usage) {
    if (positionals.length === 0) {
      throw new UsageError("taskwire config set: missing KEY=VALUE", usage);
    }
    const values: Partial<Record<SettingKey, string>> = {};
    for (const assignment of positionals) {
      const equals = assignment.indexOf("=");
      if (equals <= 0) {
        throw new UsageError(`taskwire config set: expected KEY=VALUE, got '${assignment}'`, usage);
      }
      values[assignment.slice(0, equals) as SettingKey] = assignment.slice(equals + 1);
    }
    const { home, profile } = profileTarget();
    settingsCall(() => setProfileValues(home, values, { profile }));
    const target = describeProfile(home, profile);
    for (const [key, value] of Object.entries(values) as [SettingKey, string][]) {
      process.stdout.write(`Set ${key}=${redactSecret(key, value)} in ${target}.\n`);
      warnIfOverridden(key);
    }
    return 0;
  },
});

const unsetCommand = createCommand({
  name: "config unset",
  summary: "Remove settings from the active profile",
  usage: `Usage: taskwire config unset KEY [KEY...]

Removes settings from the active profile of $TASKWIRE_HOME/profiles.toml, so that their
environment variable or default applies again.

Example:
  taskwire config unset TASKWIRE_API_URL`,
  flags: {},
  async run(_flags, keys, usage) {
    if (keys.length === 0) {
      throw new UsageError("taskwire config unset: missing KEY", usage);
    }
    const { home, profile } = profileTarget();
    const removed = settingsCall(() => unsetProfileValues(home, keys, { profile }));
    const target = describeProfile(home, profile);
    for (const key of keys) {
      if (removed.includes(key as SettingKey)) {
        process.stdout.write(`Unset ${key} in ${target}.\n`);
      } else {
        // Not an error: the outcome the user asked for holds, as with `rm -f`.
        process.stderr.write(`note: ${key} was not set in ${target}.\n`);
      }
    }
    return 0;
  },
});

const viewCommand = createCommand({
  name: "config view",
  summary: "Show the settings in effect",
  usage: `Usage: taskwire config view [--show-sources]

Shows the active profile and every setting in effect, as KEY=VALUE lines. Secrets such as
TASKWIRE_API_KEY are masked.

Options:
  --show-sources   Also show where each value comes from: a flag, the environment,
                   the profile, or the default.`,
  flags: { "show-sources": { type: "boolean" } },
  async run(flags) {
    const settings = resolveSettings();
    const keys: SettingKey[] = ["TASKWIRE_PROFILE", ...SETTING_KEYS.filter((key) => key !== "TASKWIRE_PROFILE")];
    for (const key of keys) {
      const line = `${key}=${redactSecret(key, settings.value(key))}`;
      const source = flags["show-sources"] === true ? ` (${describeSource(key, settings.source(key), settings.profile)})` : "";
      process.stdout.write(`${line}${source}\n`);
    }
    return 0;
  },
});

/** `taskwire config`: read and change the profiles in $TASKWIRE_HOME/profiles.toml. */
export const configCommand = createCommandGroup({
  name: "config",
  summary: "Show and change settings (profiles.toml)",
  description: `Settings come from flags, then TASKWIRE_* environment variables, then the active
profile in $TASKWIRE_HOME/profiles.toml, then defaults.`,
  commands: [setCommand, viewCommand, unsetCommand],
});

function profileTarget(): { home: string; profile: string | undefined } {
  const profile = process.env.TASKWIRE_PROFILE;
  return { home: taskwireHome(), profile: profile === "" ? undefined : profile };
}

function describeProfile(home: string, profile: string | undefined): string {
  const profiles = settingsCall(() => readProfiles(home));
  return `profile '${profile ?? profiles.active}' (${profiles.path})`;
}

function describeSource(key: SettingKey, source: SettingSource, profile: string): string {
  switch (source) {
    case "flag":
      return "from a flag";
    case "environment":
      return "from the environment";
    case "profile":
      return key === "TASKWIRE_PROFILE" ? "active in profiles.toml" : `from profile '${profile}'`;
    case "default":
      return "default";
  }
}

function warnIfOverridden(key: SettingKey): void {
  const fromEnv = process.env[key];
  if (fromEnv !== undefined && fromEnv !== "") {
    process.stderr.write(`note: ${key} is also set in the environment, which takes precedence over the profile.\n`);
  }
}

/** Settings functions throw plain Errors whose message is written for the user. */
function settingsCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw new CliError((error as Error).message, { cause: error });
  }
}
