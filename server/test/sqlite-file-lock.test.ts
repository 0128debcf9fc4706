import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseInUseError } from "../src/store/database-in-use-error.js";
import { acquireSqliteFileLock } from "../src/store/sqlite-file-lock.js";

let dir: string;

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the SQLite file lock", () => {
  it("refuses a second holder, naming the first, until the first releases it", () => {
    dir = mkdtempSync(join(tmpdir(), "taskwire-lock-"));
    const path = join(dir, "taskwire.db");
    const first = acquireSqliteFileLock(path);
    first.recordUrl("http://127.0.0.1:7070");
    let refused: unknown;
    try {
      acquireSqliteFileLock(path);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DatabaseInUseError);
    expect((refused as DatabaseInUseError).holder).toMatchObject({ pid: process.pid, url: "http://127.0.0.1:7070" });
    expect((refused as Error).message).toContain(path);

    first.release();
    acquireSqliteFileLock(path).release();
  });

  it("is one lock however the directory is spelled", () => {
    dir = mkdtempSync(join(tmpdir(), "taskwire-lock-"));
    symlinkSync(dir, join(dir, "alias"));
    const held = acquireSqliteFileLock(join(dir, "taskwire.db"));
    expect(() => acquireSqliteFileLock(join(dir, "alias", "taskwire.db"))).toThrow(DatabaseInUseError);
    held.release();
  });
});
