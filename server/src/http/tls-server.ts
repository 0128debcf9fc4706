import type { Socket } from "node:net";
import tls from "node:tls";
import type { ConnectionLimits } from "./connection-limits.js";
import { createListeningServer, type ListeningServer, trackSocket } from "./listening-server.js";
import { createProtocolServers, type Handler } from "./protocol-servers.js";

/**
 * The same single port over TLS: ALPN picks HTTP/2 (gRPC) or HTTP/1.1 (Connect, the UI,
 * curl) during the handshake, so no sniffing of the first bytes is needed. The same
 * HTTP/1.1 and HTTP/2 servers as without TLS, so the same timeouts and limits apply.
 */
export function createTlsServer(
  handler: Handler,
  options: { cert: string | Buffer; key: string | Buffer },
  limits: ConnectionLimits,
  maxMessageBytes: number,
): ListeningServer {
  const protocols = createProtocolServers(handler, limits, maxMessageBytes);
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ["h2", "http/1.1"],
    handshakeTimeout: limits.handshakeTimeoutMs,
  });
  const sockets = new Set<Socket>();
  // Counted from the TCP connection on, so that handshakes in progress are closed too.
  server.on("connection", (socket: Socket) => trackSocket(sockets, socket));
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    socket.on("error", () => socket.destroy());
    protocols.serve(socket, socket.alpnProtocol === "h2");
  });
  // A failed or timed-out handshake. Node leaves the socket open once this event has a
  // listener, so the listener must close it.
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  server.maxConnections = limits.maxConnections;
  return createListeningServer(server, sockets, () => protocols.close());
}
