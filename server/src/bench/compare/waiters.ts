/** Promises for jobs finishing, resolved by whatever reports them done: a job done before anyone waits stays done. */
export interface Waiters {
  wait(id: string): Promise<void>;
  done(id: string): void;
  failed(id: string, error: Error): void;
}

export function createWaiters(): Waiters {
  const finished = new Map<string, Error | undefined>();
  const waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const settle = (id: string, error: Error | undefined) => {
    const waiter = waiting.get(id);
    if (!waiter) return void finished.set(id, error);
    waiting.delete(id);
    if (error) waiter.reject(error);
    else waiter.resolve();
  };
  return {
    wait(id) {
      if (finished.has(id)) {
        const error = finished.get(id);
        finished.delete(id);
        return error ? Promise.reject(error) : Promise.resolve();
      }
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
    },
    done: (id) => settle(id, undefined),
    failed: (id, error) => settle(id, error),
  };
}
