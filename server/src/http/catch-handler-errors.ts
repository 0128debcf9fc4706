import type { Logger } from "pino";

/** The part of a Node response (HTTP/1.1 or HTTP/2) needed to answer after a failure. */
interface Response {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(): unknown;
  end(body: string): unknown;
}

/**
 * Turns an async request handler into the `(req, res) => void` Node and connect-es call.
 * Nobody awaits what they call, so an error left in the promise would be an unhandled
 * rejection, which ends the process: here it is logged and the request answered with a
 * 500 (or ended, when its header is already out).
 */
export function catchHandlerErrors<Req, Res extends Response>(
  logger: Logger,
  handler: (req: Req, res: Res) => Promise<void>,
): (req: Req, res: Res) => void {
  return (req, res) => {
    handler(req, res).catch((error: unknown) => {
      logger.error({ err: error }, "HTTP request failed");
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error; the server log has the details\n");
    });
  };
}
