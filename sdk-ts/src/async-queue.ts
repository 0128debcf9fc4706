/**
 * An unbounded queue read as an async iterable: the glue between callbacks that produce
 * messages and a gRPC stream that consumes them. `close()` ends the iteration once the
 * queued items are read; `fail(error)` ends it with that error.
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(): void;
  fail(error: unknown): void;
  readonly closed: boolean;
}

export function createAsyncQueue<T>(): AsyncQueue<T> {
  const items: T[] = [];
  let head = 0;
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let waitingReject: ((error: unknown) => void) | undefined;
  let closed = false;
  let failure: { error: unknown } | undefined;

  function settleWaiter(): void {
    if (!waiting) return;
    const resolve = waiting;
    const reject = waitingReject;
    if (head < items.length) {
      waiting = waitingReject = undefined;
      resolve({ value: take(), done: false });
    } else if (failure) {
      waiting = waitingReject = undefined;
      reject?.(failure.error);
    } else if (closed) {
      waiting = waitingReject = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  function take(): T {
    const item = items[head++];
    // Compact now and then instead of shift(), which is O(n) per call.
    if (head > 1024 && head * 2 > items.length) {
      items.splice(0, head);
      head = 0;
    }
    return item;
  }

  return {
    get closed() {
      return closed;
    },
    push(item) {
      if (closed) return;
      items.push(item);
      settleWaiter();
    },
    close() {
      closed = true;
      settleWaiter();
    },
    fail(error) {
      if (closed) return;
      closed = true;
      failure = { error };
      settleWaiter();
    },
    [Symbol.asyncIterator]() {
      return {
        next() {
          if (head < items.length) return Promise.resolve({ value: take(), done: false });
          if (failure) return Promise.reject(failure.error);
          if (closed) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve, reject) => {
            waiting = resolve;
            waitingReject = reject;
          });
        },
        return() {
          closed = true;
          return Promise.resolve({ value: undefined, done: true });
        },
        // Called by the reader to end the iteration with an error, like a generator's throw().
        throw(error: unknown) {
          closed = true;
          return Promise.reject(error);
        },
      };
    },
  };
}
