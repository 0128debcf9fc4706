import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The error a caller gets when the commit holding its write failed. Its write was dropped,
 * not queued for a retry: once told no, a caller may retry or give up, and a write it was
 * told failed must never show up later.
 *
 * SQLITE_FULL (the disk, or the file's size limit) is RESOURCE_EXHAUSTED; anything else
 * (an I/O error, a database file deleted or replaced) is UNAVAILABLE. Both name the
 * database and carry SQLite's own code and message.
 */
export function commitRefusal(error: unknown, location: string): ConnectError {
  if (error instanceof ConnectError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_FULL") {
    return new ConnectError(
      `nothing was stored: ${location} is full (SQLITE_FULL: ${message}); ` +
        "free space on its disk and try again, the server recovers by itself",
      Code.ResourceExhausted,
    );
  }
  if (code === "TASKWIRE_DATABASE_FILE_LOST") {
    return new ConnectError(`nothing was stored: ${message}`, Code.Unavailable);
  }
  const detail = typeof code === "string" ? `${code}: ${message}` : message;
  return new ConnectError(`nothing was stored: writing to ${location} failed (${detail}); try again`, Code.Unavailable);
}
