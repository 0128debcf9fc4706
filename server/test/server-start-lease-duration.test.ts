import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openRawWorker } from "./support/raw-worker.js";
import { eventually } from "./support/test-server.js";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `taskwire server start` in a process of its own; resolves with its URL once it listens. */
async function serverStart(args: string[], env: Record<string, string> = {}): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-lease-"));
  const child = spawn(process.execPath, [cli, "server", "start", "--port", "0", ...args], {
    env: { ...process.env, TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => void child.kill("SIGKILL"));
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url) resolve(url);
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`server start exited with ${code}:\n${output}`)));
  });
}

async function welcomeFrom(url: string) {
  const worker = openRawWorker(url, { taskKeys: ["welcome_only"], limit: 1 });
  cleanups.push(() => worker.close());
  return eventually(() => worker.received.find((m) => m.message.case === "welcome")?.message.value);
}

describe("server start --lease-duration-ms", () => {
  it("tells workers the lease it was given, with a heartbeat every sixth and an ack window of half", async () => {
    const welcome = await welcomeFrom(await serverStart(["--lease-duration-ms", "3000"]));
    expect(welcome).toMatchObject({ leaseDurationMs: 3000, heartbeatIntervalMs: 500, ackTimeoutMs: 1500 });
  });

  it("takes it from the environment, and keeps 30 s / 5 s / 15 s when unset", async () => {
    const fromEnv = await welcomeFrom(await serverStart([], { TASKWIRE_LEASE_DURATION_MS: "12000" }));
    expect(fromEnv).toMatchObject({ leaseDurationMs: 12000, heartbeatIntervalMs: 2000, ackTimeoutMs: 6000 });
    const unset = await welcomeFrom(await serverStart([]));
    expect(unset).toMatchObject({ leaseDurationMs: 30000, heartbeatIntervalMs: 5000, ackTimeoutMs: 15000 });
  });

  it("refuses a lease that is not a positive whole number, or is over a day, naming the setting", async () => {
    const problem = "is not a whole number of milliseconds from 1 to 86400000 \\(a day\\)";
    await expect(serverStart(["--lease-duration-ms", "0"])).rejects.toThrow(
      new RegExp(`TASKWIRE_LEASE_DURATION_MS="0" \\(from flag\\) ${problem}`),
    );
    await expect(serverStart([], { TASKWIRE_LEASE_DURATION_MS: "2.5s" })).rejects.toThrow(
      new RegExp(`TASKWIRE_LEASE_DURATION_MS="2.5s" \\(from environment\\) ${problem}`),
    );
    // 2^31 ms: past what a Node timer can wait.
    await expect(serverStart(["--lease-duration-ms", "2147483648"])).rejects.toThrow(/TASKWIRE_LEASE_DURATION_MS="2147483648"/);
  });
});
