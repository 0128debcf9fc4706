import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "./support/test-server.js";

// No Docker engine runs here, so the image is not built in CI: this checks what the
// Dockerfile promises (multi-stage, not root, the database on a volume, a health check on
// /healthz) and runs its health check command against a real server.

const root = fileURLToPath(new URL("../..", import.meta.url));
const dockerfile = readFileSync(`${root}/Dockerfile`, "utf8");
// Instructions with their continuation lines joined, comments dropped.
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));
const stages = instructions.reduce<string[][]>((all, line) => (line.startsWith("FROM ") ? [...all, [line]] : (all.at(-1)?.push(line), all)), []);
const runtime = stages.at(-1) ?? [];
const arg = (stage: string[], keyword: string) => stage.filter((line) => line.startsWith(`${keyword} `)).map((line) => line.slice(keyword.length + 1));

describe("the Dockerfile", () => {
  it("builds in stages and runs without compilers or sources", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime.some((line) => /apt-get install|g\+\+|COPY \. /.test(line))).toBe(false);
    expect(arg(runtime, "COPY").every((copy) => copy.startsWith("--from="))).toBe(true);
  });

  it("builds the web UI into the server package before packing it", () => {
    const build = arg(stages[0], "RUN").join(" ");
    expect(build).toMatch(/npm run build -w ui .*npm pack .*--workspace server/);
  });

  it("runs as a user other than root", () => {
    const [user] = arg(runtime, "USER").slice(-1);
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user.split(":")[0]);
  });

  it("keeps TASKWIRE_HOME, where SQLite lives, on a volume that user owns", () => {
    const home = /TASKWIRE_HOME=(\S+)/.exec(arg(runtime, "ENV").join(" "))?.[1];
    expect(home).toBe("/data");
    expect(arg(runtime, "VOLUME").join(" ")).toContain(`"${home}"`);
    expect(arg(runtime, "RUN").join(" ")).toContain(`chown node:node ${home}`);
    expect(arg(runtime, "USER")).toContain("node");
  });

  it("listens on all interfaces in the container and exposes the port it listens on", () => {
    const env = arg(runtime, "ENV").join(" ");
    expect(env).toContain("TASKWIRE_SERVER_HOST=0.0.0.0");
    const port = /TASKWIRE_SERVER_PORT=(\d+)/.exec(env)?.[1];
    expect(arg(runtime, "EXPOSE")).toContain(port);
  });

  describe("its HEALTHCHECK", () => {
    const healthcheck = arg(runtime, "HEALTHCHECK")[0] ?? "";
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf("CMD ") + 4)) as string[];
    let test: TestServer;

    beforeAll(async () => {
      test = await startTestServer();
    });

    afterAll(async () => {
      await test.stop();
    });

    async function check(port: number): Promise<number> {
      const [program, ...args] = command;
      expect(program).toBe("node");
      try {
        await promisify(execFile)(process.execPath, args, { env: { ...process.env, TASKWIRE_SERVER_PORT: String(port) }, timeout: 10_000 });
        return 0;
      } catch (error) {
        return (error as { code?: number }).code ?? 1;
      }
    }

    it("asks /healthz and passes while the server answers", async () => {
      expect(command.join(" ")).toContain("/healthz");
      expect(await check(test.server.port)).toBe(0);
    });

    it("fails when nothing answers", async () => {
      const port = test.server.port;
      await test.stop();
      expect(await check(port)).toBe(1);
      test = await startTestServer();
    });
  });
});
