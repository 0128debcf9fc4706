import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

// The compiled CLI, as `npx taskwire` runs it; `npm test` builds it first (tsc -b).
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

let home: string;

function taskwire(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // Only TASKWIRE_HOME from this test: settings of the machine running it must not leak in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { ...env, TASKWIRE_HOME: home },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(cli)) {
    throw new Error(`${cli} does not exist: build first with \`npx tsc -b\``);
  }
});

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "taskwire-cli-"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("taskwire config", () => {
  it("sets, views and unsets settings in the profile", () => {
    const set = taskwire("config", "set", "TASKWIRE_API_URL=http://10.0.0.5:7070", "TASKWIRE_API_KEY=s3cret-key");
    expect(set.status).toBe(0);
    expect(set.stdout).toContain("TASKWIRE_API_URL=http://10.0.0.5:7070");
    expect(set.stdout).not.toContain("s3cret-key");
    expect(readFileSync(join(home, "profiles.toml"), "utf8")).toContain('TASKWIRE_API_URL = "http://10.0.0.5:7070"');

    const view = taskwire("config", "view", "--show-sources");
    expect(view.status).toBe(0);
    expect(view.stdout).toContain("TASKWIRE_PROFILE=default");
    expect(view.stdout).toContain("TASKWIRE_API_URL=http://10.0.0.5:7070 (from profile 'default')");
    expect(view.stdout).toContain("TASKWIRE_SERVER_PORT=7070 (default)");
    expect(view.stdout).toMatch(/^TASKWIRE_API_KEY=\*+ \(from profile 'default'\)$/m);
    expect(view.stdout).not.toContain("s3cret-key");

    const unset = taskwire("config", "unset", "TASKWIRE_API_URL");
    expect(unset.status).toBe(0);
    const after = taskwire("config", "view");
    expect(after.stdout).toMatch(/^TASKWIRE_API_URL=http:\/\/127\.0\.0\.1:7070$/m);
  });

  it("refuses an unknown setting, naming it and the valid ones", () => {
    const result = taskwire("config", "set", "TASKWIRE_API_UTL=http://x:1");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown setting "TASKWIRE_API_UTL"');
    expect(result.stderr).toContain("TASKWIRE_API_URL");
    expect(existsSync(join(home, "profiles.toml"))).toBe(false);
  });

  it("reports a malformed profiles.toml with the file's path", () => {
    taskwire("config", "set", "TASKWIRE_LOG_LEVEL=debug");
    const path = join(home, "profiles.toml");
    writeFileSync(path, "active = [\n");
    const result = taskwire("config", "view");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path} is not valid TOML`);
  });
});

describe("taskwire --help", () => {
  const commands: [args: string[], mentions: string[]][] = [
    [[], ["server", "task", "task-run", "config", "demo"]],
    [["server"], ["start"]],
    [["server", "start"], ["--host", "--port", "--database-url", "--api-key"]],
    [["task"], ["serve"]],
    [["task", "serve"], ["--limit", "FILE[:EXPORT]"]],
    [["task-run"], ["ls", "inspect", "cancel"]],
    [["task-run", "ls"], ["--task", "--state", "--limit"]],
    [["task-run", "inspect"], ["ID"]],
    [["task-run", "cancel"], ["ID"]],
    [["config"], ["set", "view", "unset"]],
    [["config", "set"], ["KEY=VALUE"]],
    [["config", "view"], ["--show-sources"]],
    [["config", "unset"], ["KEY"]],
    [["demo"], ["--host", "--port"]],
  ];

  for (const [args, mentions] of commands) {
    for (const flag of ["--help", "-h"]) {
      it(`taskwire ${[...args, flag].join(" ")} prints its usage and exits 0`, () => {
        const result = taskwire(...args, flag);
        expect(result.status).toBe(0);
        expect(result.stdout).toContain(`Usage: taskwire ${args.join(" ")}`.trimEnd());
        for (const mention of mentions) {
          expect(result.stdout).toContain(mention);
        }
      });
    }
  }
});

describe("taskwire with a wrong command line", () => {
  it("exits 2 with a message and the usage on an unknown command", () => {
    const result = taskwire("frobnicate");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
    expect(result.stderr).toContain("Usage: taskwire <command>");
    expect(result.stdout).toBe("");
  });

  it("exits 2 on an unknown subcommand", () => {
    const result = taskwire("config", "show");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'show'");
    expect(result.stderr).toContain("Usage: taskwire config <command>");
  });

  it("exits 2 with the command's usage on an unknown flag", () => {
    const result = taskwire("config", "view", "--verbose");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("'--verbose'");
    expect(result.stderr).toContain("Usage: taskwire config view");
  });

  it("exits 2 when a required argument is missing", () => {
    const result = taskwire("task-run", "inspect");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("missing ID");
  });
});
