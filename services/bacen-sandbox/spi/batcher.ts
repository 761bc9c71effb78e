// A bounded queue drained in batches by one loop at a time (STYLE.md § Own the pace): callers push and
// await their item's outcome; the loop takes up to `batchMax` items per flush. At the bound a push is
// refused (the route answers 503) instead of growing without limit.
export interface Batcher<T, R> {
  push(item: T): Promise<R> | null;
  readonly pending: number;
  /** resolves when everything pushed so far has been flushed */
  drain(): Promise<void>;
}

export function createBatcher<T, R>(opts: { batchMax: number; queueMax: number; flush: (items: T[]) => Promise<R[]>; onError: (e: unknown) => void }): Batcher<T, R> {
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running: Promise<void> | null = null;

  async function loop(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.batchMax);
      queue = queue.slice(batch.length);
      try {
        const results = await opts.flush(batch.map((b) => b.item));
        // one result per item, in order: anything else is a bug in the flush function
        if (results.length !== batch.length) throw new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (e) {
        opts.onError(e);
        for (const b of batch) b.reject(e);
      }
    }
    running = null;
  }

  return {
    push(item) {
      if (queue.length >= opts.queueMax) return null;
      const p = new Promise<R>((resolve, reject) => queue.push({ item, resolve, reject }));
      if (!running) running = Promise.resolve().then(loop);
      return p;
    },
    get pending() {
      return queue.length;
    },
    async drain() {
      while (running) await running;
    },
  };
}
