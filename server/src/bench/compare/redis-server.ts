import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../processes.js";

/** A private Redis for BullMQ: its port, version and process. */
export interface RedisServer {
  readonly port: number;
  readonly version: string;
  readonly pid: number;
  /** Kills it and deletes its directory; synchronous, for process exit. */
  stop(): void;
}

function installed(): boolean {
  return spawnSync("sh", ["-c", "command -v redis-server"]).status === 0;
}

/** Installs Debian's redis-server when missing: `apt-get install`, after `apt-get update` if that fails. */
function ensureInstalled(): void {
  if (installed()) return;
  const apt = (...args: string[]) => spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
  process.stderr.write("redis-server is missing: installing Debian's package\n");
  if (!apt("install", "-y", "redis-server") && !(apt("update") && apt("install", "-y", "redis-server"))) {
    throw new Error("redis-server is not installed and `apt-get install -y redis-server` failed; install it and run again");
  }
}

/**
 * Starts redis-server on a free loopback port in a temporary directory with persistence
 * off (no RDB snapshots, no append-only file: nothing is fsynced), as BullMQ was measured
 * in the speed issue. Resolves once it accepts connections.
 */
export async function startRedis(): Promise<RedisServer> {
  ensureInstalled();
  const version = /v=(\S+)/.exec(spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?";
  const dir = mkdtempSync(join(tmpdir(), "taskwire-bench-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"];
  const child: ChildProcess = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code} before ready:\n${output}`)));
  });
  return {
    port,
    version,
    pid: child.pid ?? 0,
    stop() {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
