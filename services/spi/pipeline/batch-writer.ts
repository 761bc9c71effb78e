// Batches durable writes (STYLE.md "batching is the architecture"): callers enqueue an operation and
// await it; a loop takes up to WRITE_BATCH_OPS_MAX operations, or whatever arrived within
// WRITE_BATCH_WAIT_MS_MAX of the first one, and writes them in ONE database transaction. A caller's
// promise resolves only after that transaction committed: "durable before acknowledged".
// At the bound: a full queue refuses at once ('queue-full' → 503), it never grows without limit.

/** Operations per database transaction: a multi-row insert of 500 payments stays well under 1 s. */
export const WRITE_BATCH_OPS_MAX = 500;
/** A lone operation waits at most this long for company; the price of batching on a quiet system. */
export const WRITE_BATCH_WAIT_MS_MAX = 2;
/** Operations waiting for a batch; beyond this the caller is refused (back-pressure, answered 503). */
export const WRITE_QUEUE_OPS_MAX = 20_000;

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export interface BatchWriter<Op, R> {
  /** resolves with the op's result once its batch committed; rejects if the batch failed */
  write(op: Op): Promise<R>;
  readonly queued: number;
  /** writes what is queued, then stops taking work */
  stop(): Promise<void>;
}

interface Pending<Op, R> {
  op: Op;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export interface BatchWriterOptions<Op, R> {
  name: string;
  /** writes the batch atomically and returns one result per op, in order */
  flush: (ops: Op[]) => Promise<R[]>;
  opsMax?: number;
  waitMsMax?: number;
  queueMax?: number;
  onError?: (err: unknown, size: number) => void;
}

export function createBatchWriter<Op, R>(opts: BatchWriterOptions<Op, R>): BatchWriter<Op, R> {
  const opsMax = opts.opsMax ?? WRITE_BATCH_OPS_MAX;
  const waitMsMax = opts.waitMsMax ?? WRITE_BATCH_WAIT_MS_MAX;
  const queueMax = opts.queueMax ?? WRITE_QUEUE_OPS_MAX;
  const queue: Pending<Op, R>[] = [];
  let running: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const runOnce = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, opsMax);
      try {
        const results = await opts.flush(batch.map((p) => p.op));
        if (results.length !== batch.length) throw new Error(`${opts.name}: flush returned ${results.length} results for ${batch.length} ops`);
        batch.forEach((p, i) => p.resolve(results[i]!));
      } catch (err) {
        opts.onError?.(err, batch.length);
        for (const p of batch) p.reject(err);
      }
    }
  };

  const kick = () => {
    timer = null;
    if (running) return;
    running = runOnce().finally(() => {
      running = null;
      if (queue.length > 0) schedule();
    });
  };

  const schedule = () => {
    if (timer || running) return;
    if (queue.length >= opsMax || waitMsMax === 0) kick();
    else timer = setTimeout(kick, waitMsMax);
  };

  return {
    write(op) {
      if (stopped) return Promise.reject(new Error(`${opts.name}: writer stopped`));
      if (queue.length >= queueMax) return Promise.reject(new QueueFullError(`${opts.name}: ${queue.length} writes queued (max ${queueMax})`));
      return new Promise<R>((resolve, reject) => {
        queue.push({ op, resolve, reject });
        if (queue.length >= opsMax && timer) {
          clearTimeout(timer);
          kick();
        } else schedule();
      });
    },
    get queued() {
      return queue.length;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
      if (queue.length > 0) await runOnce();
    },
  };
}
