import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Codes a retry cannot fix: the same key or the same request gets the same answer. A worker
 * or a run watcher stops on them with a clear error instead of retrying forever; every
 * other error (UNAVAILABLE, a lost connection, a server restart) is retried.
 */
const REFUSALS = new Set([
  Code.Unauthenticated,
  Code.PermissionDenied,
  Code.InvalidArgument,
  // A protocol version the server does not speak, or an RPC it does not have.
  Code.FailedPrecondition,
  Code.Unimplemented,
]);

/**
 * The error to stop with when the server refused for good, naming what to fix; undefined
 * for errors worth a retry. `who` names what was refused ("the worker", "waiting for runs").
 */
export function refusalOf(error: unknown, apiUrl: string, who: string): ConnectError | undefined {
  if (!(error instanceof ConnectError) || !REFUSALS.has(error.code)) return undefined;
  // Only UNAUTHENTICATED is about the key. PERMISSION_DENIED is the server's host check (a
  // name missing from its TASKWIRE_ALLOWED_HOSTS): its own message says what to change.
  const message =
    error.code === Code.Unauthenticated
      ? `the taskwire server at ${apiUrl} refused the API key (${error.rawMessage}); check TASKWIRE_API_KEY`
      : `the taskwire server at ${apiUrl} refused ${who}: ${error.rawMessage}`;
  return new ConnectError(message, error.code, undefined, undefined, error);
}
