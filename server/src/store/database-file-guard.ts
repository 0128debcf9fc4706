import { type Stats, statSync } from "node:fs";

/**
 * The database file was deleted or replaced under the running server. Writes still land in
 * the file it has open, which nobody will open again: acknowledging them would lose them at
 * the next start, so every write is refused from then on.
 */
export class DatabaseFileLostError extends Error {
  override readonly name = "DatabaseFileLostError";
  readonly code = "TASKWIRE_DATABASE_FILE_LOST";
}

export interface DatabaseFileGuard {
  /** Throws DatabaseFileLostError once the paths no longer lead to the open files. */
  check(): void;
  /** Why writes are refused, once they are. */
  lostReason(): string | undefined;
}

/**
 * Remembers the device and inode of the database file and of its write-ahead log as opened,
 * and compares the paths with them: one or two stat calls per group commit, a few µs next
 * to the commit's fsync. SQLite itself never deletes or replaces either while it has the
 * database open (the WAL is only removed when the last connection closes).
 */
export function createDatabaseFileGuard(path: string, onLost?: (error: DatabaseFileLostError) => void): DatabaseFileGuard {
  const walPath = `${path}-wal`;
  const opened = statSync(path);
  let openedWal = statSync(walPath, { throwIfNoEntry: false });
  let lost: string | undefined;

  function difference(file: string, was: Stats): string | undefined {
    const now = statSync(file, { throwIfNoEntry: false });
    if (!now) return `${file} was deleted while the server had it open`;
    if (now.ino !== was.ino || now.dev !== was.dev) return `${file} was replaced by another file while the server had it open`;
    return undefined;
  }

  return {
    check() {
      const known = lost;
      if (!known) {
        openedWal ??= statSync(walPath, { throwIfNoEntry: false });
        lost = difference(path, opened) ?? (openedWal && difference(walPath, openedWal));
      }
      if (!lost) return;
      const error = new DatabaseFileLostError(
        `${lost}; every write is refused from now on, since it would be lost at the next start`,
      );
      if (!known) onLost?.(error);
      throw error;
    },
    lostReason() {
      return lost;
    },
  };
}
