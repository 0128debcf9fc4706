import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { type DatabaseHolder, DatabaseInUseError } from "./database-in-use-error.js";

export interface SqliteFileLock {
  /** Records where the holder listens, so that a refused server can name it. */
  recordUrl(url: string): void;
  release(): void;
}

/**
 * Takes the lock that makes one server the only one serving an SQLite file, or throws
 * DatabaseInUseError naming the server that holds it.
 *
 * The lock is an OS file lock, so it dies with its process, SIGKILL included, and a crashed
 * server's successor starts at once: a side database `<file>.lock` opened in SQLite's
 * EXCLUSIVE locking mode, where the first write takes an exclusive lock that is kept until
 * the connection closes. `<file>.lock-holder` (JSON) says which process holds it; it is
 * only read, never trusted, since the lock alone decides.
 */
export function acquireSqliteFileLock(path: string): SqliteFileLock {
  mkdirSync(dirname(path), { recursive: true });
  // One lock file per database, however its directory is spelled (symlinks, "..").
  const base = join(realpathSync(dirname(path)), basename(path));
  const holderFile = `${base}.lock-holder`;
  // timeout 0: a held lock is refused at once rather than waited for (5 s by default).
  const lock = new Database(`${base}.lock`, { timeout: 0 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.pragma(`user_version = ${process.pid}`);
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY") {
      throw new DatabaseInUseError(path, readHolder(holderFile), holderFile);
    }
    throw error;
  }
  const holder: DatabaseHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  writeHolder(holderFile, holder);
  return {
    recordUrl(url) {
      writeHolder(holderFile, { ...holder, url });
    },
    release() {
      if (!lock.open) return;
      // The holder file goes first: once the lock is released it may be the next server's.
      rmSync(holderFile, { force: true });
      lock.close();
    },
  };
}

function writeHolder(file: string, holder: DatabaseHolder): void {
  // Renamed into place, so a refused server never reads half a file.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(holder)}\n`);
  renameSync(`${file}.tmp`, file);
}

function readHolder(file: string): DatabaseHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DatabaseHolder;
  } catch {
    return undefined;
  }
}
