import http2 from "node:http2";
import type { Socket } from "node:net";
import { createListeningServer, type ListeningServer, trackSocket } from "./listening-server.js";

type Handler = Parameters<typeof http2.createSecureServer>[1];

/**
 * The same single port over TLS: ALPN picks HTTP/2 (gRPC) or HTTP/1.1 (Connect, the UI,
 * curl) during the handshake, so no sniffing of the first bytes is needed.
 */
export function createTlsServer(handler: Handler, tls: { cert: string | Buffer; key: string | Buffer }): ListeningServer {
  const server = http2.createSecureServer({ ...tls, allowHTTP1: true }, handler);
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => trackSocket(sockets, socket));
  return createListeningServer(server, sockets);
}
