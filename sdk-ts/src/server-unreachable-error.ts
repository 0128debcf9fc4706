import { Code, ConnectError } from "@connectrpc/connect";

/** The socket errors that mean no server answers at the address (refused, no such host, …). */
const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]);

const unreachableErrors = new WeakSet<Error>();

/**
 * The error `delay()`, `result()` and the other calls throw when no taskwire server answers
 * at the client's URL: a ConnectError (code UNAVAILABLE, so code that retries on UNAVAILABLE
 * keeps working) whose message names the URL and the socket error. A plain ConnectError, not
 * a subclass: connect-es recognises its errors by prototype or name, and wraps anything
 * else as UNKNOWN.
 */
export function serverUnreachableError(apiUrl: string, socketErrorCode: string): ConnectError {
  const error = new ConnectError(`cannot reach the taskwire server at ${apiUrl}; is it running? (${socketErrorCode})`, Code.Unavailable);
  // Uncaught, it prints as its message and stack, without the transport's metadata and
  // details (node prints an uncaught error's enumerable fields and its cause; with the
  // socket error as cause, one refused connection took 25 lines).
  for (const field of ["rawMessage", "code", "metadata", "details"]) {
    Object.defineProperty(error, field, { enumerable: false });
  }
  // Node prints a cause even when it is undefined or not enumerable; this error has none.
  delete (error as { cause?: unknown }).cause;
  unreachableErrors.add(error);
  return error;
}

/**
 * True for the error a taskwire client throws when no server answers at its URL.
 *
 * @example
 * try { await greet.delay("Arthur"); }
 * catch (error) { if (isServerUnreachable(error)) console.error("start the server first"); }
 */
export function isServerUnreachable(error: unknown): boolean {
  return error instanceof Error && unreachableErrors.has(error);
}

/** The socket error code inside a transport ConnectError when it says no server answers. */
export function unreachableCode(error: unknown): string | undefined {
  if (!(error instanceof ConnectError) || error.code !== Code.Unavailable) return undefined;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && unreachableCodes.has(code) ? code : undefined;
}
