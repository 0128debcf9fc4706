import { Duplex } from "node:stream";
import type { Socket } from "node:net";

/**
 * A socket whose first bytes were already read (to tell HTTP/2 from HTTP/1.1), handed on
 * as a Duplex that yields those bytes again. `socket.unshift` is not enough for the http2
 * server, which reads a real socket natively and would miss them.
 *
 * The http2 server wraps a Duplex in Node's JSStreamSocket, which asserts that no write
 * starts while the previous one is unfinished, and finishes each write one `setImmediate`
 * after its callback. Bytes handed to it meanwhile can make HTTP/2 answer at once (a
 * SETTINGS or PING ack) and crash the process with ERR_INTERNAL_ASSERTION (seen here under
 * load; nodejs/node#35384). So incoming bytes wait while a write is in flight and are
 * delivered once it has finished.
 */
export function replaySocket(socket: Socket, head: Buffer): Duplex {
  let writesInFlight = 0;
  const held: (Buffer | null)[] = [];

  function deliver(chunk: Buffer | null): void {
    if (writesInFlight > 0 || held.length > 0) {
      held.push(chunk);
      return;
    }
    if (!duplex.push(chunk) && chunk !== null) socket.pause();
  }

  function release(): void {
    while (writesInFlight === 0 && held.length > 0) {
      const chunk = held.shift() ?? null;
      if (!duplex.push(chunk) && chunk !== null) socket.pause();
    }
  }

  /** Chunks arrive as Buffers (the Duplex decodes strings), so no encoding travels with them. */
  function send(chunk: Buffer, callback: (error?: Error | null) => void): void {
    writesInFlight++;
    const done = (error?: Error | null) => {
      callback(error);
      // After JSStreamSocket's own setImmediate, which finishes the write.
      setImmediate(() => {
        writesInFlight--;
        release();
      });
    };
    socket.write(chunk, done);
  }

  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, _encoding, callback) {
      send(chunk, callback);
    },
    // JSStreamSocket corks and writes each buffer of one HTTP/2 output (a frame's 9-byte
    // header, then its payload): without writev each would be a syscall of its own, 10 per
    // delay-and-result round trip instead of 5.
    writev(chunks, callback) {
      send(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), callback);
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
  socket.on("data", (chunk: Buffer) => deliver(chunk));
  socket.on("end", () => deliver(null));
  socket.on("close", () => duplex.destroy());
  socket.on("error", (error) => duplex.destroy(error));
  // The http2 server reads these off its socket for logging and for req.socket.
  for (const key of ["remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort"] as const) {
    Object.defineProperty(duplex, key, { get: () => socket[key] });
  }
  return duplex;
}
