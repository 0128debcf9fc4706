import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  GetTaskRunRequestSchema,
  GetTaskRunResponseSchema,
  WatchTaskRunsRequestSchema,
  WatchTaskRunsResponseSchema,
} from "@taskwire/proto";
import { afterEach, describe, expect, it } from "vitest";
import { specGrpcMessage } from "../src/http/readable-grpc-message.js";
import { MAX_WATCHED_RUNS } from "../src/rpc/task-run-service.js";
import { type RunningServer, startServer } from "../src/server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(apiKey?: string): Promise<RunningServer> {
  const home = mkdtempSync(join(tmpdir(), "taskwire-grpcjs-"));
  const server = await startServer({ host: "127.0.0.1", port: 0, home, logLevel: "silent", apiKey });
  cleanups.push(() => rmSync(home, { recursive: true, force: true }), () => server.close());
  return server;
}

/** GetTaskRun through @grpc/grpc-js, the gRPC library most Node workers use (nice-grpc is built on it). */
function getTaskRun(port: number, id: string, options: grpc.ChannelOptions = {}): Promise<grpc.ServiceError> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  cleanups.push(() => client.close());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/taskwire.v1.TaskRunService/GetTaskRun",
      (request: { id: string }) => Buffer.from(toBinary(GetTaskRunRequestSchema, create(GetTaskRunRequestSchema, request))),
      (bytes: Buffer) => fromBinary(GetTaskRunResponseSchema, bytes),
      { id },
      (error) => (error ? resolve(error) : reject(new Error("GetTaskRun succeeded"))),
    );
  });
}

describe("status messages read by a grpc-js client", () => {
  it("arrive readable, punctuation and all", async () => {
    const server = await serve("the-key");
    const error = await getTaskRun(server.port, "any");
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error.details).toBe("missing or wrong API key: send the header 'authorization: Bearer <TASKWIRE_API_KEY>'");
  });

  it("arrive readable with characters outside ASCII", async () => {
    const server = await serve();
    const error = await getTaskRun(server.port, "naïve, 100% ✓");
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    expect(error.details).toBe('task run "naïve, 100% ✓" not found');
  });

  it("name the host a request was refused for", async () => {
    const server = await serve();
    const error = await getTaskRun(server.port, "any", { "grpc.default_authority": "rebound.example:7070" });
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error.details).toContain('Host "rebound.example:7070" is not a name of this server');
    expect(error.details).toContain("TASKWIRE_ALLOWED_HOSTS");
  });
});

describe("status messages after a stream has sent messages", () => {
  it("arrive readable in the trailers too", async () => {
    const server = await serve();
    const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const call = client.makeBidiStreamRequest(
      "/taskwire.v1.TaskRunService/WatchTaskRuns",
      (request: MessageInitShape<typeof WatchTaskRunsRequestSchema>) =>
        Buffer.from(toBinary(WatchTaskRunsRequestSchema, create(WatchTaskRunsRequestSchema, request))),
      (bytes: Buffer) => fromBinary(WatchTaskRunsResponseSchema, bytes),
    );
    const failed = new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    call.write({ runIds: ["no-such-run"] });
    // The first response (headers sent, then a message) before the error, so that the
    // status travels in trailers rather than in a trailers-only response.
    await new Promise((resolve) => call.once("data", resolve));
    call.write({ runIds: Array.from({ length: MAX_WATCHED_RUNS + 1 }, (_, i) => `r${i}`) });
    const error = await failed;
    expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(error.details).toContain(`over the maximum of ${MAX_WATCHED_RUNS} per WatchTaskRuns stream; unwatch some`);
  });
});

describe("specGrpcMessage", () => {
  it("percent-encodes only '%' and bytes outside 0x20-0x7E, as the gRPC spec says", () => {
    expect(specGrpcMessage(encodeURIComponent("a: b, c/d 100% é\n"))).toBe("a: b, c/d 100%25 %C3%A9%0A");
  });
});
