import { Duplex } from "node:stream";
import type { Socket } from "node:net";

/**
 * A socket whose first bytes were already read (to tell HTTP/2 from HTTP/1.1), handed on
 * as a Duplex that yields those bytes again. `socket.unshift` is not enough for the http2
 * server, which reads a real socket natively and would miss them.
 */
export function replaySocket(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(head);
  socket.on("data", (chunk) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (error) => duplex.destroy(error));
  // The http2 server reads these off its socket for logging and for req.socket.
  for (const key of ["remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort"] as const) {
    Object.defineProperty(duplex, key, { get: () => socket[key] });
  }
  return duplex;
}
