import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** `taskwire server start` in a process of its own, with these flags and environment. */
async function serverStart(args: string[], env: Record<string, string> = {}): Promise<number> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-flags-"));
  const child = spawn(process.execPath, [cli, "server", "start", "--port", "0", ...args], {
    env: { ...process.env, TASKWIRE_HOME: home, TASKWIRE_LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => void child.kill("SIGKILL"));
  let output = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port) resolve(Number(port));
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`server start exited with ${code}:\n${output}`)));
  });
}

function status(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/task-runs", headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

describe("server start", () => {
  it("takes the allowed hosts and the handshake timeout from its flags", async () => {
    const port = await serverStart(["--allowed-hosts", "taskwire.internal, *.tasks.example", "--handshake-timeout-ms", "300"]);
    expect(await status(port, "taskwire.internal")).toBe(200);
    expect(await status(port, "eu.tasks.example:7070")).toBe(200);
    expect(await status(port, "rebound.example")).toBe(403);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("close", resolve));
  });

  it("takes the connection cap from the environment", async () => {
    const port = await serverStart([], { TASKWIRE_MAX_CONNECTIONS: "1", TASKWIRE_HANDSHAKE_TIMEOUT_MS: "600000" });
    const first = net.connect(port, "127.0.0.1");
    cleanups.push(() => void first.destroy());
    await new Promise((resolve) => first.once("connect", resolve));
    const second = net.connect(port, "127.0.0.1");
    second.on("error", () => {});
    // Closed by the server, while the first (within the cap) stays open.
    await new Promise((resolve) => second.once("close", resolve));
    expect(first.destroyed).toBe(false);
  });

  it("refuses a setting that is not a whole number, naming it", async () => {
    await expect(serverStart(["--idle-timeout-ms", "soon"])).rejects.toThrow(/TASKWIRE_IDLE_TIMEOUT_MS="soon" \(from flag\) is not a whole number >= 1/);
  });
});
