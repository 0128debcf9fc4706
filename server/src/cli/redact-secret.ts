import { SETTING_DEFINITIONS, type SettingKey } from "./cli-settings.js";

/**
 * A setting's value as it may be shown on a terminal or in a log. Secrets are masked,
 * except that a database URL keeps everything but its password
 * (`postgresql://app:****@db/taskwire`), so a user can still see which database is used.
 */
export function redactSecret(key: SettingKey, value: string): string {
  if (value === "" || !SETTING_DEFINITIONS[key].secret) {
    return value;
  }
  if (key === "TASKWIRE_DATABASE_URL" && URL.canParse(value)) {
    const url = new URL(value);
    if (url.password !== "") {
      url.password = "****";
    }
    return url.href;
  }
  return "********";
}
