import type http from "node:http";
import type http2 from "node:http2";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";

/** The `Host` (HTTP/1.1) or `:authority` (HTTP/2) a request names; undefined when absent. */
export const requestHostKey = createContextKey<string | undefined>(undefined, { description: "Host of the request" });

/**
 * The connection a request came on: its HTTP/2 session, or its HTTP/1.1 socket. Used as a
 * key only, to count what one connection holds open.
 */
export const connectionKey = createContextKey<object | undefined>(undefined, { description: "Connection of the request" });

/** What handlers and interceptors may know about the HTTP request behind an RPC. */
export function requestContextValues(req: http.IncomingMessage | http2.Http2ServerRequest): ContextValues {
  const values = createContextValues();
  values.set(requestHostKey, requestHost(req));
  values.set(connectionKey, "stream" in req ? req.stream.session : req.socket);
  return values;
}

/** `:authority` for HTTP/2 (with `Host` as its fallback, as RFC 9113 allows), else `Host`. */
export function requestHost(req: http.IncomingMessage | http2.Http2ServerRequest): string | undefined {
  const authority = req.headers[":authority"];
  return (typeof authority === "string" && authority) || req.headers.host || undefined;
}
