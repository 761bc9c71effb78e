// Bounded concurrency for outbound calls: at most `inFlightMax` run at once, at most `queuedMax` wait.
// Past the queue bound a caller gets a value back at once instead of waiting without end: back-pressure
// reaches whoever produced the work, and memory stays bounded when BACEN slows down.

export interface Limiter {
  /** Resolves true when a slot is taken, false if the queue is full or the signal aborted first. */
  acquire(signal: AbortSignal): Promise<'acquired' | 'queue-full' | 'aborted'>;
  release(): void;
  readonly inFlight: number;
  readonly queued: number;
}

export function createLimiter(inFlightMax: number, queuedMax: number): Limiter {
  if (!(inFlightMax >= 1 && queuedMax >= 0)) throw new Error(`limiter bounds must be positive (${inFlightMax}, ${queuedMax})`);
  let inFlight = 0;
  const waiting: { grant: () => void }[] = [];

  return {
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return waiting.length;
    },
    acquire(signal) {
      if (signal.aborted) return Promise.resolve('aborted');
      if (inFlight < inFlightMax) {
        inFlight++;
        return Promise.resolve('acquired');
      }
      if (waiting.length >= queuedMax) return Promise.resolve('queue-full');
      return new Promise((resolve) => {
        const entry = {
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            resolve('acquired');
          },
        };
        const onAbort = () => {
          const at = waiting.indexOf(entry);
          if (at >= 0) waiting.splice(at, 1);
          resolve('aborted');
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(entry);
      });
    },
    release() {
      if (inFlight <= 0) throw new Error('limiter released more often than acquired');
      const next = waiting.shift();
      // the slot passes straight to the next waiter, so inFlight stays the same
      if (next) next.grant();
      else inFlight--;
    },
  };
}
