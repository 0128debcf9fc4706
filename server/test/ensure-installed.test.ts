import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script, without types.
import { staleReason } from "../../scripts/ensure-installed.mjs";

const check = staleReason as (root: string) => string | undefined;
let root: string;

function lock(packages: Record<string, { version: string; optional?: boolean }>, file = "package-lock.json"): void {
  writeFileSync(join(root, file), JSON.stringify({ lockfileVersion: 3, packages: { "": { name: "x" }, ...packages } }));
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "taskwire-ensure-"));
  mkdirSync(join(root, "node_modules"));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("npm start / npm test run npm ci only when needed", () => {
  it("when nothing is installed", () => {
    lock({ "node_modules/a": { version: "1.0.0" } });
    expect(check(root)).toBe("node_modules is not installed");
  });

  it("not when node_modules holds every locked version, optional ones of other platforms aside", () => {
    lock({ "node_modules/a": { version: "1.0.0" }, "node_modules/b-darwin": { version: "2.0.0", optional: true } });
    lock({ "node_modules/a": { version: "1.0.0" } }, "node_modules/.package-lock.json");
    expect(check(root)).toBeUndefined();
  });

  it("when the lock file wants another version", () => {
    lock({ "node_modules/a": { version: "1.1.0" } });
    lock({ "node_modules/a": { version: "1.0.0" } }, "node_modules/.package-lock.json");
    expect(check(root)).toBe("node_modules has a@1.0.0, package-lock.json wants 1.1.0");
  });
});
