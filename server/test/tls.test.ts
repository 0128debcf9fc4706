import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { createTaskwireClient, createWorker, task } from "taskwire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";

// A self-signed certificate for 127.0.0.1, made with openssl for this test only.
let dir: string;
let server: RunningServer;
let caFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskwire-tls-"));
  caFile = join(dir, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", caFile,
  ], { stdio: "ignore" });
  server = await startServer({
    host: "127.0.0.1",
    port: 0,
    home: dir,
    logLevel: "silent",
    tls: { cert: readFileSync(caFile), key: readFileSync(join(dir, "key.pem")) },
  });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("TLS", () => {
  it("serves workers and callers over gRPC with TLS", async () => {
    expect(server.url).toMatch(/^https:\/\//);
    const client = createTaskwireClient({ apiUrl: server.url, apiKey: "", tlsCaFile: caFile });
    const double = task(function double(n: number) {
      return n * 2;
    }, { client });
    const worker = createWorker({ tasks: [double], client, log: () => {} });
    void worker.start();
    try {
      const run = await double.delay(21);
      expect(await run.result(10_000)).toBe(42);
    } finally {
      await worker.stop();
      client.close();
    }
  });

  it("serves HTTP/1.1 (the UI, /healthz, Connect) on the same TLS port", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      get(`${server.url}/healthz`, { ca: readFileSync(caFile) }, (response) => {
        let text = "";
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () => resolve(text));
      }).on("error", reject);
    });
    expect(body).toBe("ok\n");
  });

  it("refuses a client that does not trust the certificate", async () => {
    const untrusting = createTaskwireClient({ apiUrl: server.url, apiKey: "" });
    const error = await untrusting.taskRuns.listTaskRuns({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(ConnectError.from(error).message).toMatch(/certificate/);
    untrusting.close();
  });
});
