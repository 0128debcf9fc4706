#!/usr/bin/env node
// A private PostgreSQL cluster for the tests: `initdb` in a temporary directory, started on
// a free port on 127.0.0.1 with trust authentication, stopped and deleted afterwards. Used
// by scripts/test.mjs (one cluster for the whole run) and by the PostgreSQL tests when run
// alone (`npx vitest run server/test/store-contract.test.ts`).
//
//   node scripts/postgres.mjs start   prints the URL and the data directory, leaves it running
//   node scripts/postgres.mjs stop DIR
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH. */
function binDir() {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, "bin/initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], "bin");
  }
  const found = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  if (found) return join(found, "..");
  throw new Error("PostgreSQL is not installed: no initdb in /usr/lib/postgresql/*/bin or on PATH");
}

// initdb and postgres refuse to run as root; as root they run as the `postgres` user.
const asRoot = process.getuid?.() === 0;

function runAsOwner(command, args) {
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts a new cluster. Returns its URL (database `postgres`, user `postgres`, no password)
 * and its data directory, which `stopPostgres` needs.
 */
export async function startPostgres() {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "taskwire-postgres-"));
  const data = join(dir, "data");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  runAsOwner(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  // No Unix socket (its default directory may not exist or be writable); TCP on loopback only.
  // max_connections 200: several test files, each with a pool of servers, share one cluster.
  const settings = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c max_connections=200`;
  runAsOwner(join(bin, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(dir, "postgres.log"), "-o", settings]);
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, dir };
}

/** Stops the cluster started in `dir` and deletes it. */
export function stopPostgres(dir) {
  try {
    runAsOwner(join(binDir(), "pg_ctl"), ["stop", "-w", "-m", "immediate", "-D", join(dir, "data")]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, dir] = process.argv.slice(2);
  if (command === "start") {
    const cluster = await startPostgres();
    console.log(`${cluster.url} ${cluster.dir}`);
  } else if (command === "stop" && dir) {
    stopPostgres(dir);
  } else {
    console.error("usage: node scripts/postgres.mjs start | stop DIR");
    process.exit(2);
  }
}
