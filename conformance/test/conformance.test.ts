import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usePostgres } from "../../server/test/support/postgres-database.js";
import { type ConformanceReport, runConformance, SCENARIOS } from "../src/run-conformance.js";

// The workers as a user runs them; `npm test` builds the TypeScript one first (tsc -b).
const root = fileURLToPath(new URL("../../", import.meta.url));
const tsWorker = "conformance/dist/workers/ts-worker.js";
const python = "sdk-python/.venv/bin/python";
const goWorkerDir = `${root}examples/go-worker`;
const postgres = usePostgres();

/**
 * The Python SDK's venv, made as scripts/test.mjs makes it (same stamp), for a fresh checkout
 * where this suite runs before the Python one has created it.
 */
function ensurePythonVenv(): void {
  if (existsSync(`${root}${python}`)) return;
  const steps: string[][] = [
    ["python3", "-m", "venv", "sdk-python/.venv"],
    [python, "-m", "pip", "install", "--quiet", "-e", "./sdk-python[dev]"],
  ];
  for (const [command, ...args] of steps) {
    const result = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 240_000 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`);
  }
  writeFileSync(`${root}sdk-python/.venv/.installed`, "");
}

/** Scenario name → reason, for every scenario that failed: an empty object is a pass. */
function failures(report: ConformanceReport): Record<string, string> {
  return Object.fromEntries(report.results.filter((r) => !r.passed).map((r) => [r.name, r.detail]));
}

describe("worker conformance", () => {
  it("the TypeScript SDK's worker passes every scenario", async () => {
    if (!existsSync(`${root}${tsWorker}`)) throw new Error(`${tsWorker} does not exist: build first with \`npx tsc -b\``);
    const report = await runConformance({ workerCommand: `${process.execPath} ${tsWorker}`, cwd: root });
    expect(failures(report), report.workerOutput.join("\n")).toEqual({});
    expect(report.results.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
  }, 90_000);

  it("the TypeScript SDK's worker passes every scenario against a server on PostgreSQL", async () => {
    if (!existsSync(`${root}${tsWorker}`)) throw new Error(`${tsWorker} does not exist: build first with \`npx tsc -b\``);
    const report = await runConformance({ workerCommand: `${process.execPath} ${tsWorker}`, cwd: root, databaseUrl: postgres.url });
    expect(failures(report), report.workerOutput.join("\n")).toEqual({});
    expect(report.results.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
  }, 90_000);

  it("the Python SDK's worker passes every scenario", async () => {
    ensurePythonVenv();
    const report = await runConformance({ workerCommand: `${python} conformance/workers/python_worker.py`, cwd: root });
    expect(failures(report), report.workerOutput.join("\n")).toEqual({});
    expect(report.results.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
  }, 330_000);

  describe("the Go example worker", () => {
    // A built binary, not `go run`: the suite's SIGTERM would end `go run` itself, exit code 1.
    let binDir: string;
    let goWorker: string;

    beforeAll(async () => {
      binDir = mkdtempSync(join(tmpdir(), "taskwire-go-worker-"));
      goWorker = join(binDir, "go-worker");
      try {
        await promisify(execFile)("go", ["build", "-o", goWorker, "."], { cwd: goWorkerDir, timeout: 240_000 });
      } catch (error) {
        const { stderr, message } = error as { stderr?: string; message: string };
        throw new Error(`go build in examples/go-worker failed: ${stderr || message}`);
      }
    }, 300_000); // A cold build (grpc-go, protobuf) takes about 45 s here.

    afterAll(() => {
      if (binDir) rmSync(binDir, { recursive: true, force: true });
    });

    it("passes every scenario, its limit taken from TASKWIRE_WORKER_LIMIT", async () => {
      const report = await runConformance({ workerCommand: JSON.stringify(goWorker), cwd: root });
      expect(failures(report), report.workerOutput.join("\n")).toEqual({});
      expect(report.results.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
    }, 90_000);
  });

  it("fails a worker that ignores Cancel and dies on SIGTERM, and says why", async () => {
    const report = await runConformance({
      workerCommand: `${process.execPath} --import tsx conformance/test/fixtures/careless-worker.ts`,
      cwd: root,
      only: ["ack", "cancel", "drain"],
    });
    const failed = failures(report);
    expect(Object.keys(failed)).toEqual(["cancel", "drain"]);
    expect(failed.cancel).toContain("on Cancel the worker must abort the run");
    expect(failed.drain).toContain("exited with code 1, not 0");
  }, 60_000);
});
