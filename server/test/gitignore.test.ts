import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// What the README's commands leave in the checkout must not show up in `git status`.

const root = fileURLToPath(new URL("../..", import.meta.url));

function ignored(path: string): boolean {
  try {
    execFileSync("git", ["check-ignore", "--quiet", "--no-index", path], { cwd: root });
    return true;
  } catch {
    return false;
  }
}

describe(".gitignore", () => {
  it("covers what `pip install ./sdk-python` builds in the checkout", () => {
    expect(ignored("sdk-python/build/lib/taskwire/task.py")).toBe(true);
    expect(ignored("sdk-python/taskwire_sdk.egg-info/PKG-INFO")).toBe(true);
  });

  it("covers the binary `go build` makes in examples/go-worker (named after its module)", () => {
    const module = /^module\s+(\S+)/m.exec(readFileSync(`${root}/examples/go-worker/go.mod`, "utf8"))?.[1] ?? "";
    const binary = module.split("/").at(-1) ?? "";
    expect(binary).not.toBe("");
    expect(ignored(`examples/go-worker/${binary}`)).toBe(true);
  });

  it("does not hide the sources beside them", () => {
    expect(ignored("sdk-python/taskwire/task.py")).toBe(false);
    expect(ignored("examples/go-worker/attempt.go")).toBe(false);
  });
});
