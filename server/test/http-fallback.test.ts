import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer } from "./support/test-server.js";

// What is not gRPC or Connect (/healthz, /metrics, the UI) is served by an async handler
// nobody awaits: an error escaping it would be an unhandled rejection, ending the process.
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeEach(() => {
  rejections.length = 0;
  process.on("unhandledRejection", onRejection);
});

afterEach(() => {
  process.off("unhandledRejection", onRejection);
});

/** Sends raw bytes (what fetch would refuse to send) and resolves with the status line. */
function statusLineOf(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes("\r\n")) {
        resolve(received.slice(0, received.indexOf("\r\n")));
        socket.destroy();
      }
    });
    socket.on("error", reject);
    // A guard against the hang of a request whose handler threw before answering.
    socket.setTimeout(20_000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request)}`));
    });
  });
}

describe("HTTP requests outside gRPC and Connect", () => {
  it("a request target that is not a URL is answered 400, and the server keeps serving", async () => {
    const { server, stop } = await startTestServer();
    try {
      const status = await statusLineOf(server.port, "GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
      expect(status).toBe("HTTP/1.1 400 Bad Request");
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(rejections).toEqual([]);
    } finally {
      await stop();
    }
  });
});
