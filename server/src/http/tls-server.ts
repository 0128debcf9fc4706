import http2 from "node:http2";
import type { Socket } from "node:net";
import type { DualProtocolServer } from "./dual-protocol-server.js";

type Handler = Parameters<typeof http2.createSecureServer>[1];

/**
 * The same single port over TLS: ALPN picks HTTP/2 (gRPC) or HTTP/1.1 (Connect, the UI,
 * curl) during the handshake, so no sniffing of the first bytes is needed.
 */
export function createTlsServer(handler: Handler, tls: { cert: string | Buffer; key: string | Buffer }): DualProtocolServer {
  const server = http2.createSecureServer({ ...tls, allowHTTP1: true }, handler);
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as { port: number }).port);
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise((r) => setTimeout(r, 100));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
