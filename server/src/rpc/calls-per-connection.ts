import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectionKey } from "../http/request-context.js";

export interface CallsPerConnection {
  /**
   * Counts one more call on the connection of `context`, to be given back with the
   * function returned.
   * @throws ConnectError RESOURCE_EXHAUSTED when the connection already holds `max`.
   */
  enter(context: HandlerContext): () => void;
}

/** Caps the long calls (waits, watches) that one connection holds open at once. */
export function createCallsPerConnection(max: number, what: string): CallsPerConnection {
  const open = new WeakMap<object, number>();
  return {
    enter(context) {
      const connection = context.values.get(connectionKey);
      // In-process transports (tests) have no connection: nothing to count.
      if (!connection) return () => {};
      const count = open.get(connection) ?? 0;
      if (count >= max) {
        throw new ConnectError(
          `${what}: ${max} calls already open on this connection, the maximum; wait for some to end, or use WatchTaskRuns to wait for many runs on one stream`,
          Code.ResourceExhausted,
        );
      }
      open.set(connection, count + 1);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        open.set(connection, (open.get(connection) ?? 1) - 1);
      };
    },
  };
}
