import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadSettings,
  readProfiles,
  setProfileValues,
  taskwireHome,
  unsetProfileValues,
} from "../src/cli/cli-settings.js";
import { loadSettings as loadClientSettings } from "../../sdk-ts/src/settings.js";

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "taskwire-settings-"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("loadSettings", () => {
  it("uses the defaults when nothing is set and the profiles file is missing", () => {
    const settings = loadSettings({ env: { TASKWIRE_HOME: home } });
    expect(settings.apiUrl).toBe("http://127.0.0.1:7070");
    expect(settings.serverHost).toBe("127.0.0.1");
    expect(settings.serverPort).toBe(7070);
    expect(settings.logLevel).toBe("info");
    expect(settings.apiKey).toBeUndefined();
    expect(settings.databaseUrl).toBeUndefined();
    expect(settings.profile).toBe("default");
    expect(settings.home).toBe(home);
    expect(settings.source("TASKWIRE_API_URL")).toBe("default");
  });

  it("prefers flags over the environment over the profile over the defaults", () => {
    setProfileValues(home, {
      TASKWIRE_API_URL: "http://profile:1",
      TASKWIRE_SERVER_PORT: "7001",
      TASKWIRE_SERVER_HOST: "0.0.0.0",
    });
    const env = { TASKWIRE_HOME: home, TASKWIRE_API_URL: "http://env:2", TASKWIRE_SERVER_PORT: "7002" };
    const settings = loadSettings({ env, flags: { TASKWIRE_SERVER_PORT: "7003" } });

    expect(settings.serverPort).toBe(7003);
    expect(settings.source("TASKWIRE_SERVER_PORT")).toBe("flag");
    expect(settings.apiUrl).toBe("http://env:2");
    expect(settings.source("TASKWIRE_API_URL")).toBe("environment");
    expect(settings.serverHost).toBe("0.0.0.0");
    expect(settings.source("TASKWIRE_SERVER_HOST")).toBe("profile");
    expect(settings.logLevel).toBe("info");
    expect(settings.source("TASKWIRE_LOG_LEVEL")).toBe("default");
  });

  it("treats empty flags and environment variables as not given", () => {
    setProfileValues(home, { TASKWIRE_API_URL: "http://profile:1" });
    const settings = loadSettings({
      env: { TASKWIRE_HOME: home, TASKWIRE_API_URL: "" },
      flags: { TASKWIRE_API_URL: undefined },
    });
    expect(settings.apiUrl).toBe("http://profile:1");
  });

  it("reads the profile named by TASKWIRE_PROFILE instead of the active one", () => {
    setProfileValues(home, { TASKWIRE_LOG_LEVEL: "warn" });
    setProfileValues(home, { TASKWIRE_LOG_LEVEL: "debug" }, { profile: "staging" });

    expect(loadSettings({ env: { TASKWIRE_HOME: home } }).logLevel).toBe("warn");
    const staging = loadSettings({ env: { TASKWIRE_HOME: home, TASKWIRE_PROFILE: "staging" } });
    expect(staging.profile).toBe("staging");
    expect(staging.logLevel).toBe("debug");
  });

  it("reads the profile named by `active` in the file", () => {
    writeFileSync(
      join(home, "profiles.toml"),
      'active = "prod"\n[profiles.default]\nTASKWIRE_SERVER_PORT = 1\n[profiles.prod]\nTASKWIRE_SERVER_PORT = 9090\n',
    );
    const settings = loadSettings({ env: { TASKWIRE_HOME: home } });
    expect(settings.profile).toBe("prod");
    expect(settings.serverPort).toBe(9090);
  });

  it("names the file and the TOML problem when profiles.toml is malformed", () => {
    const path = join(home, "profiles.toml");
    writeFileSync(path, "active = [\n");
    expect(() => loadSettings({ env: { TASKWIRE_HOME: home } })).toThrow(
      new RegExp(`${path.replace(/[.]/g, "\\.")} is not valid TOML: .*invalid`, "i"),
    );
  });

  it("refuses an unknown key written by hand in profiles.toml", () => {
    writeFileSync(join(home, "profiles.toml"), "[profiles.default]\nTASKWIRE_API_UTL = 'x'\n");
    expect(() => loadSettings({ env: { TASKWIRE_HOME: home } })).toThrow(/profiles\.toml.*TASKWIRE_API_UTL/);
  });

  it("names the setting and its source when a value is invalid", () => {
    expect(() => loadSettings({ env: { TASKWIRE_HOME: home, TASKWIRE_SERVER_PORT: "http" } })).toThrow(
      /TASKWIRE_SERVER_PORT="http" \(from environment\) is not a port number/,
    );
  });
});

describe("the SDK's client settings", () => {
  it("read a profile that also holds server settings, leaving those to the server", () => {
    writeFileSync(
      join(home, "profiles.toml"),
      "[profiles.default]\nTASKWIRE_API_URL = 'http://profile:1'\nTASKWIRE_SERVER_PORT = 9090\nTASKWIRE_DATABASE_URL = 'sqlite:/x.db'\n",
    );
    const settings = loadClientSettings({ env: { TASKWIRE_HOME: home } });
    expect(settings.apiUrl).toBe("http://profile:1");
    expect(settings.source("TASKWIRE_API_URL")).toBe("profile");
    expect(loadSettings({ env: { TASKWIRE_HOME: home } }).serverPort).toBe(9090);
  });

  it("still refuse an invalid client value, naming the setting and its source", () => {
    expect(() => loadClientSettings({ env: { TASKWIRE_HOME: home, TASKWIRE_API_URL: "ftp://x" } })).toThrow(
      /TASKWIRE_API_URL="ftp:\/\/x" \(from environment\) is not an http/,
    );
  });
});

describe("profiles.toml", () => {
  it("is created with its directory on the first set, in the documented format", () => {
    const nested = join(home, "a", "b");
    setProfileValues(nested, { TASKWIRE_API_URL: "http://10.0.0.5:7070" });
    const path = join(nested, "profiles.toml");
    expect(readFileSync(path, "utf8")).toBe(
      'active = "default"\n\n[profiles.default]\nTASKWIRE_API_URL = "http://10.0.0.5:7070"\n',
    );
    // It may hold an API key, so only its owner can read it.
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("round-trips set, read and unset, keeping other values and profiles", () => {
    setProfileValues(home, { TASKWIRE_API_URL: "http://a:1", TASKWIRE_API_KEY: "k" });
    setProfileValues(home, { TASKWIRE_LOG_LEVEL: "debug" }, { profile: "other" });
    setProfileValues(home, { TASKWIRE_API_URL: "http://b:2" });

    expect(readProfiles(home).profiles).toEqual({
      default: { TASKWIRE_API_URL: "http://b:2", TASKWIRE_API_KEY: "k" },
      other: { TASKWIRE_LOG_LEVEL: "debug" },
    });

    expect(unsetProfileValues(home, ["TASKWIRE_API_KEY", "TASKWIRE_SERVER_HOST"])).toEqual(["TASKWIRE_API_KEY"]);
    const profiles = readProfiles(home);
    expect(profiles.active).toBe("default");
    expect(profiles.profiles.default).toEqual({ TASKWIRE_API_URL: "http://b:2" });
    expect(profiles.profiles.other).toEqual({ TASKWIRE_LOG_LEVEL: "debug" });
    expect(loadSettings({ env: { TASKWIRE_HOME: home } }).apiKey).toBeUndefined();
  });

  it("reads a missing file as no profiles", () => {
    expect(readProfiles(home)).toEqual({ path: join(home, "profiles.toml"), active: "default", profiles: {} });
  });

  it("refuses unknown keys, naming the key and the valid ones, and writes nothing", () => {
    setProfileValues(home, { TASKWIRE_API_URL: "http://a:1" });
    const before = readFileSync(join(home, "profiles.toml"), "utf8");

    expect(() => setProfileValues(home, { TASKWIRE_API_URL: "http://b:2", API_URL: "x" } as never)).toThrow(
      /unknown setting "API_URL"; valid settings are TASKWIRE_API_URL, TASKWIRE_API_KEY/,
    );
    expect(() => unsetProfileValues(home, ["NOPE"])).toThrow(/unknown setting "NOPE"/);
    expect(readFileSync(join(home, "profiles.toml"), "utf8")).toBe(before);
  });

  it("refuses settings that choose the profile file itself", () => {
    expect(() => setProfileValues(home, { TASKWIRE_HOME: "/elsewhere" })).toThrow(/TASKWIRE_HOME cannot be set in a profile/);
  });

  it("refuses invalid values before writing", () => {
    expect(() => setProfileValues(home, { TASKWIRE_SERVER_PORT: "seventy" })).toThrow(/not a port number/);
    expect(() => setProfileValues(home, { TASKWIRE_API_URL: "127.0.0.1:7070" })).toThrow(/not an http/);
    expect(readProfiles(home).profiles).toEqual({});
  });
});

describe("taskwireHome", () => {
  it("is TASKWIRE_HOME when set, else ~/.taskwire", () => {
    expect(taskwireHome({ TASKWIRE_HOME: home })).toBe(home);
    expect(taskwireHome({})).toMatch(/\.taskwire$/);
  });
});
