/**
 * The worker's half of the stream: messages pushed from callbacks (a run finished, a
 * heartbeat is due) and read by nice-grpc as the request iterable. `close()` ends the
 * iterable once it is drained, which half-closes the gRPC stream.
 */
export interface RequestQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(): void;
  readonly closed: boolean;
}

export function createRequestQueue<T>(): RequestQueue<T> {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let closed = false;

  return {
    get closed() {
      return closed;
    },
    push(item) {
      if (closed) return;
      items.push(item);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const item = items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
