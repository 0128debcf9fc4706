import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { signupServices } from "../signup/services.js";

// There is no Docker engine here, so compose.yaml is not run; this keeps it describing what
// the tested launcher runs (examples/signup/services.ts): the same services, commands and
// copies, and Dockerfiles that exist.

const signupDir = fileURLToPath(new URL("../signup", import.meta.url));

interface ComposeService {
  command?: string[];
  deploy?: { replicas?: number };
  build?: { context: string; dockerfile: string };
}

const compose = parse(readFileSync(join(signupDir, "compose.yaml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};

describe("examples/signup/compose.yaml", () => {
  it("names the launcher's services, each with the launcher's command and number of copies", () => {
    const described = Object.entries(compose.services).map(([name, service]) => ({
      name,
      command: service.command,
      replicas: service.deploy?.replicas ?? 1,
    }));

    expect(described.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      signupServices.map(({ name, command, replicas }) => ({ name, command, replicas })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it("builds every service from a Dockerfile that exists, with the repository as context", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.build, name).toBeDefined();
      const context = join(signupDir, service.build?.context ?? "");
      expect(existsSync(join(context, "package.json")), `${name}: context ${context}`).toBe(true);
      expect(existsSync(join(context, service.build?.dockerfile ?? "")), `${name}: ${service.build?.dockerfile}`).toBe(true);
    }
  });
});
