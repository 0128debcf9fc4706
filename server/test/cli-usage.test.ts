import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliPath, runTaskwire } from "./support/taskwire-cli.js";

let home: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "taskwire-cli-"));
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("taskwire help text", () => {
  it("keeps two spaces between every setting and its description in config set --help", async () => {
    const result = await runTaskwire(["config", "set", "--help"], { TASKWIRE_HOME: home });
    expect(result.status).toBe(0);
    const settingLines = result.stdout.split("\n").filter((line) => /^ {2}TASKWIRE_/.test(line));
    expect(settingLines.map((line) => line.match(/^ {2}TASKWIRE_\S+/)?.[0])).toContain("  TASKWIRE_RETENTION_HOURS");
    for (const line of settingLines) {
      expect(line).toMatch(/^ {2}TASKWIRE_[A-Z_]+ {2,}\S/);
    }
    // One column for every description.
    const columns = new Set(settingLines.map((line) => line.search(/(?<= {2})[^ T]/)));
    expect(columns.size).toBe(1);
  });
});

const everyCommand = [
  [],
  ["server", "start"],
  ["task", "serve"],
  ["task-run", "ls"],
  ["task-run", "inspect"],
  ["task-run", "logs"],
  ["task-run", "retry"],
  ["task-run", "cancel"],
  ["worker", "ls"],
  ["concurrency-limit", "create"],
  ["concurrency-limit", "ls"],
  ["concurrency-limit", "delete"],
  ["config", "set"],
  ["config", "view"],
  ["config", "unset"],
  ["demo"],
];

describe("taskwire help text, every command", () => {
  for (const args of everyCommand) {
    it(`taskwire ${[...args, "--help"].join(" ")}: each option's description starts in one column, two spaces after the flag`, async () => {
      const result = await runTaskwire([...args, "--help"], { TASKWIRE_HOME: home });
      expect(result.status).toBe(0);
      const options = result.stdout.split("\n\n").find((block) => block.startsWith("Options:"));
      const lines = options?.split("\n").slice(1) ?? [];
      const flagLines = lines.filter((line) => /^ {2}-/.test(line));
      const columns = new Set<number>();
      for (const line of flagLines) {
        // A flag alone on its line has its description on the next ones; otherwise the
        // flag and its argument are followed by at least two spaces.
        const [flag, description] = line.trim().split(/ {2,}/);
        expect(flag, line).toMatch(/^(-[a-zA-Z], )?--[a-z-]+( [A-Z_[\]:.]+)?$/);
        if (description !== undefined) columns.add(line.indexOf(description));
      }
      for (const line of lines.filter((line) => /^ {3,}\S/.test(line))) columns.add(line.search(/\S/));
      expect(columns.size, result.stdout).toBeLessThanOrEqual(1);
    });
  }
});

describe("taskwire concurrency-limit create", () => {
  it("says a negative LIMIT must be a whole number >= 1, not that -1 is an unknown option", async () => {
    const result = await runTaskwire(["concurrency-limit", "create", "emails", "-1"], { TASKWIRE_HOME: home });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("LIMIT must be a whole number >= 1");
    expect(result.stderr).toContain("got '-1'");
    expect(result.stderr).not.toContain("Unknown option");
  });

  it("refuses a LIMIT that is not a whole number, naming it", async () => {
    const result = await runTaskwire(["concurrency-limit", "create", "emails", "2.5"], { TASKWIRE_HOME: home });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("got '2.5'");
  });
});

describe("taskwire demo (npm start)", () => {
  it("on a port other than 7070, its hints name the URL it serves", async () => {
    const port = await freePort();
    const demo = spawn(process.execPath, [cliPath, "demo", "--port", String(port)], {
      env: { ...withoutTaskwireSettings(), TASKWIRE_HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    demo.stdout.setEncoding("utf8");
    try {
      await new Promise<void>((resolve, reject) => {
        demo.stdout.on("data", (chunk: string) => {
          stdout += chunk;
          if (stdout.includes("README.md")) resolve();
        });
        demo.on("exit", (code) => reject(new Error(`demo exited ${code} before its hints: ${stdout}`)));
      });
    } finally {
      demo.kill("SIGINT");
    }
    const url = `http://127.0.0.1:${port}`;
    expect(stdout).toContain(`see it at ${url}/task-runs/task-run/`);
    expect(stdout).toContain(`TASKWIRE_API_URL=${url} npx taskwire task-run ls`);
    expect(stdout).not.toContain("7070");
  });
});

function withoutTaskwireSettings(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("TASKWIRE_")));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
