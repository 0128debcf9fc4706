/**
 * The messages waiting to go out on one worker's stream, with their size. connect-node takes
 * the next message only once HTTP/2 flow control let the previous one out, so a worker that
 * does not read its stream leaves everything sent to it here: the broker stops sending it
 * work while more than a little is unsent, and a stream that still piles up past `maxBytes`
 * (acks and cancels for a worker that writes but never reads) is failed and its queue freed.
 */
export interface OutboundQueue<T> extends AsyncIterable<T> {
  /**
   * Queues a message of about `bytes` (dropped once closed); false, queueing nothing, when
   * that would pass `maxBytes`.
   */
  push(message: T, bytes: number): boolean;
  /** Bytes queued and not yet taken by the transport. */
  readonly unsentBytes: number;
  /**
   * Ends the stream once what was queued is sent, with `error` if given: the answers to the
   * messages a worker sent before a bad one reach it, then the error.
   */
  close(error?: unknown): void;
  /** Ends the stream with `error` at once; what was queued is dropped (it is not being read). */
  fail(error: unknown): void;
}

export interface OutboundQueueOptions {
  maxBytes: number;
  /** Unsent bytes at or below which `onLow` is called, when they were above it. */
  lowBytes: number;
  onLow(): void;
}

export function createOutboundQueue<T>(options: OutboundQueueOptions): OutboundQueue<T> {
  let items: { message: T; bytes: number }[] = [];
  let head = 0;
  let unsent = 0;
  let closed = false;
  let failure: { error: unknown } | undefined;
  let ending: { error: unknown } | undefined;
  let wake: (() => void) | undefined;

  function settle(): void {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  }

  return {
    get unsentBytes() {
      return unsent;
    },
    push(message, bytes) {
      if (closed) return true;
      if (unsent + bytes > options.maxBytes && unsent > 0) return false;
      items.push({ message, bytes });
      unsent += bytes;
      settle();
      return true;
    },
    close(error) {
      if (closed) return;
      closed = true;
      if (error !== undefined) ending = { error };
      settle();
    },
    fail(error) {
      if (failure) return;
      closed = true;
      failure = { error };
      items = [];
      head = 0;
      unsent = 0;
      settle();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (failure) throw failure.error;
        if (head < items.length) {
          const { message, bytes } = items[head++];
          // Compact now and then instead of shift(), which is O(n) per call.
          if (head > 1024 && head * 2 > items.length) {
            items = items.slice(head);
            head = 0;
          }
          const wasHigh = unsent > options.lowBytes;
          unsent -= bytes;
          if (wasHigh && unsent <= options.lowBytes) options.onLow();
          yield message;
          continue;
        }
        if (ending) throw ending.error;
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
