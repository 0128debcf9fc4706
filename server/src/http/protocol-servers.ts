import http from "node:http";
import http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { ConnectionLimits } from "./connection-limits.js";

export type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface ProtocolServers {
  /** Serves a connection whose protocol is known: HTTP/2 or HTTP/1.1. */
  serve(connection: Duplex, http2: boolean): void;
  /** Asks every connection to end once its calls are done, and stops the timeout checks. */
  close(): void;
}

/**
 * The HTTP/1.1 and HTTP/2 servers behind the listening socket, with their timeouts. The
 * listening side (plain with sniffing, or TLS with ALPN) hands them connections.
 */
export function createProtocolServers(handler: Handler, limits: ConnectionLimits, maxMessageBytes: number): ProtocolServers {
  const h1 = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      // Node refuses a request timeout shorter than the headers timeout.
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
      keepAliveTimeout: limits.idleTimeoutMs,
      // Node checks the two timeouts every 30 s by default, which would let a slow
      // client hold its connection for 30 s past a 10 s headers timeout.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, limits.headersTimeoutMs / 4)),
    },
    handler,
  );
  // Node tracks connections for the two timeouts above, and checks them, only from the
  // server's "listening" event on; this server never listens itself (the listening
  // socket hands it connections), so it is told here. close() stops the checks.
  h1.emit("listening");
  const h2 = http2.createServer(
    {
      settings: { maxConcurrentStreams: limits.maxConcurrentStreams },
      // nghttp2 resets every stream of a session holding more than this (10 MB by default)
      // with ENHANCE_YOUR_CALM, which a client reads as an internal error: a 20 MB message,
      // or 64 delays of 1 MB at once. Room for two messages of the largest size accepted
      // lets an oversize one reach the message size check, which names the limit.
      maxSessionMemory: Math.max(10, Math.ceil((2 * maxMessageBytes) / 1_000_000)),
    },
    handler,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    closeWhenIdle(session, limits.idleTimeoutMs);
    session.on("close", () => sessions.delete(session));
  });

  return {
    serve(connection, isHttp2) {
      (isHttp2 ? h2 : h1).emit("connection", connection);
    },
    close() {
      for (const session of sessions) session.close();
      h1.close();
    },
  };
}

/**
 * Closes an HTTP/2 session after `idleMs` without a stream: a client that sent only the
 * preface, or one that stopped calling. A session with a stream open (a worker's
 * SubscribeTaskRuns, a WatchTaskRuns) is never idle, however quiet the stream.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let streams = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      session.close();
      // A peer that does not read our GOAWAY must not keep the socket: 1 s to say goodbye.
      setTimeout(() => session.destroy(), 1_000).unref();
    }, idleMs);
    timer.unref();
  };
  arm();
  session.on("stream", (stream) => {
    streams += 1;
    clearTimeout(timer);
    stream.once("close", () => {
      streams -= 1;
      if (streams === 0 && !session.closed) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
}
