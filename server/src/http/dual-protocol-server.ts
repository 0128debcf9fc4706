import net from "node:net";
import type { ConnectionLimits } from "./connection-limits.js";
import { createListeningServer, type ListeningServer, trackSocket } from "./listening-server.js";
import { createProtocolServers, type Handler } from "./protocol-servers.js";
import { replaySocket } from "./replay-socket.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One port for everything: HTTP/2 without TLS (gRPC: workers, SDKs, grpcurl) and HTTP/1.1
 * (Connect and gRPC-Web from browsers and curl, the web UI, /healthz). The first bytes of
 * each connection decide: HTTP/2 always opens with the preface "PRI * HTTP/2.0".
 */
export function createDualProtocolServer(handler: Handler, limits: ConnectionLimits, maxMessageBytes: number): ListeningServer {
  const protocols = createProtocolServers(handler, limits, maxMessageBytes);
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    trackSocket(sockets, socket);
    socket.on("error", () => socket.destroy());
    // A connection that never says which protocol it speaks holds a descriptor for nothing.
    const silent = () => socket.destroy();
    socket.setTimeout(limits.handshakeTimeoutMs, silent);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const isHttp2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isHttp2 && head.length < PREFACE.length) return;
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.off("timeout", silent);
      socket.pause();
      if (isHttp2) {
        protocols.serve(replaySocket(socket, head), true);
      } else {
        socket.unshift(head);
        protocols.serve(socket, false);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });
  server.maxConnections = limits.maxConnections;

  return createListeningServer(server, sockets, () => protocols.close());
}
