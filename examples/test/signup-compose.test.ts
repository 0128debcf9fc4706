import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { createHostCheck } from "../../server/src/http/host-check.js";
import { signupServices } from "../signup/services.js";

// There is no Docker engine here, so compose.yaml is not run; this keeps it describing what
// the tested launcher runs (examples/signup/services.ts): the same services, commands and
// copies, and Dockerfiles that exist.

const signupDir = fileURLToPath(new URL("../signup", import.meta.url));

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
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

  it("the taskwire server answers the name the other services reach it by", () => {
    // In containers the clients reach the server by its service name, which is not one of
    // the names the server knows by itself (its container's name is its id): unless listed,
    // every call is refused against DNS rebinding (PERMISSION_DENIED).
    const server = compose.services.taskwire.environment ?? {};
    const check = createHostCheck({
      allowedHosts: (server.TASKWIRE_ALLOWED_HOSTS ?? "").split(","),
      listenHost: server.TASKWIRE_SERVER_HOST ?? "127.0.0.1",
    });
    const clients = Object.entries(compose.services).filter(([, service]) => service.environment?.TASKWIRE_API_URL);

    expect(clients.map(([name]) => name).sort()).toEqual(["api", "worker-python", "worker-ts"]);
    for (const [name, service] of clients) {
      const host = new URL(service.environment?.TASKWIRE_API_URL ?? "").host;
      expect(check.allows(host), `${name} reaches the server as ${host}`).toBe(true);
    }
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
