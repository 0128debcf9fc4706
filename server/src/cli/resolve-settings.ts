import type { SettingValues } from "taskwire";
import { CliError } from "./cli-error.js";
import { type SettingKey, type Settings, loadSettings } from "./cli-settings.js";

/**
 * The settings for a command: its flags, then TASKWIRE_* environment variables, then the
 * active profile, then defaults. A bad value or a malformed profiles.toml becomes a
 * CliError, whose message names the setting and where it came from.
 */
export function resolveSettings(flags: SettingValues<SettingKey> = {}): Settings {
  try {
    return loadSettings({ flags });
  } catch (error) {
    throw new CliError((error as Error).message, { cause: error });
  }
}
