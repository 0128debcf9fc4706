import { describe, expect, it } from "vitest";
import { shortWorkerId } from "../src/components/short-worker-id.js";

describe("shortWorkerId", () => {
  it("keeps a TypeScript worker's host-pid-suffix id whole", () => {
    expect(shortWorkerId("vm-30576-891508be")).toBe("vm-30576-891508be");
  });

  it("shortens a Python worker's UUID in the middle, keeping both ends", () => {
    expect(shortWorkerId("3f2a9c1e-1b2d-4e5f-8a9b-0c1d2e3f4a5b")).toBe("3f2a9c1e-1…2e3f4a5b");
  });

  it("keeps the unique end of an id on a long host name", () => {
    expect(shortWorkerId("build-runner-eu-west-1.internal-4242-1f2e3d4c")).toBe("build-runn…1f2e3d4c");
  });
});
