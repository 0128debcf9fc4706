import type { Server, Socket } from "node:net";

/** A server the taskwire server listens with: plain (both protocols) or TLS. */
export interface ListeningServer {
  /** Resolves with the port listened on (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets in-flight responses end for 100 ms, then drops what is left. */
  close(): Promise<void>;
}

/** Remembers a connection until it closes, so that close() can end it. */
export function trackSocket(sockets: Set<Socket>, socket: Socket): void {
  // Without it, small stream messages wait for Nagle: about 40 ms each.
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
}

export function createListeningServer(server: Server, sockets: Set<Socket>, beforeClose: () => void = () => {}): ListeningServer {
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as { port: number }).port);
        });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      beforeClose();
      await new Promise((r) => setTimeout(r, 100));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
