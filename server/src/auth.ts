import { timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** True when the header value carries this API key ("Bearer <key>" or the bare key). */
export function hasApiKey(header: string | null | undefined, apiKey: string): boolean {
  const given = Buffer.from((header ?? "").replace(/^Bearer\s+/i, ""));
  const expected = Buffer.from(apiKey);
  // Compared in constant time, so response timing does not reveal a prefix of the key.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Refuses every RPC without the server's API key. */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  return (next) => async (request) => {
    if (!hasApiKey(request.header.get("authorization"), apiKey)) {
      throw new ConnectError("missing or wrong API key: send the header 'authorization: Bearer <TASKWIRE_API_KEY>'", Code.Unauthenticated);
    }
    return next(request);
  };
}
