import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { createListeningServer, type ListeningServer, trackSocket } from "./listening-server.js";
import { replaySocket } from "./replay-socket.js";

type Handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;


const PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * One port for everything: HTTP/2 without TLS (gRPC: workers, SDKs, grpcurl) and HTTP/1.1
 * (Connect and gRPC-Web from browsers and curl, the web UI, /healthz). The first bytes of
 * each connection decide: HTTP/2 always opens with the preface "PRI * HTTP/2.0".
 */
export function createDualProtocolServer(handler: Handler): ListeningServer {
  const h2 = http2.createServer({}, handler);
  const h1 = http.createServer(handler);
  h1.keepAliveTimeout = 65_000;
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  const server = net.createServer((socket) => {
    trackSocket(sockets, socket);
    socket.on("error", () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE.length);
      const isHttp2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isHttp2 && head.length < PREFACE.length) return;
      socket.off("data", onData);
      socket.pause();
      if (isHttp2) {
        h2.emit("connection", replaySocket(socket, head));
      } else {
        socket.unshift(head);
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  return createListeningServer(server, sockets, () => {
    for (const session of sessions) session.close();
    h1.closeIdleConnections();
  });
}
