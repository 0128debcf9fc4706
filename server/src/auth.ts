import { timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { apiKeyFromCookie } from "./ui/api-key-cookie.js";

/** True when the header value carries this API key ("Bearer <key>" or the bare key). */
export function hasApiKey(header: string | null | undefined, apiKey: string): boolean {
  const given = Buffer.from((header ?? "").replace(/^Bearer\s+/i, ""));
  const expected = Buffer.from(apiKey);
  // Compared in constant time, so response timing does not reveal a prefix of the key.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The key a request carries: its authorization header, or for the web UI's own calls the
 * sign-in cookie. The cookie counts only with the header `x-taskwire-ui: 1`, which a page
 * of another site cannot add to a request without the browser asking this server first
 * (a CORS preflight it does not grant); SameSite=Strict already keeps the cookie from
 * such requests, this is the second lock.
 */
export function requestApiKey(header: { get(name: string): string | null }): string | null {
  const authorization = header.get("authorization");
  if (authorization) return authorization;
  if (header.get("x-taskwire-ui") !== "1") return null;
  return apiKeyFromCookie(header.get("cookie")) ?? null;
}

/** Refuses every RPC without the server's API key. */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  return (next) => async (request) => {
    if (!hasApiKey(requestApiKey(request.header), apiKey)) {
      throw new ConnectError("missing or wrong API key: send the header 'authorization: Bearer <TASKWIRE_API_KEY>'", Code.Unauthenticated);
    }
    return next(request);
  };
}
