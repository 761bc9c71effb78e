// What the sandbox received, newest last, in a fixed-size ring: tests and operators read it through the
// control API to assert what our services actually sent. Bounded so a load test cannot grow it.

/** About the last minute of a functional test run; a load test overwrites the oldest entries. */
export const JOURNAL_ENTRIES_MAX = 1_000;

export interface JournalEntry {
  at: string;
  callerIspb: string | null;
  method: string;
  path: string;
  /** 0 when no answer was sent (connection reset or held by a fault) */
  status: number;
  /** base64 SHA-256 of the request body as received */
  bodyDigest: string;
  bodyBytes: number;
  fault?: string;
}

export interface RequestJournal {
  record(entry: JournalEntry): void;
  /** newest first */
  recent(limit: number): JournalEntry[];
  clear(): void;
  readonly size: number;
}

export function createRequestJournal(capacity = JOURNAL_ENTRIES_MAX): RequestJournal {
  if (!(capacity >= 1)) throw new Error(`journal capacity must be positive (${capacity})`);
  const ring: (JournalEntry | undefined)[] = new Array(capacity);
  let next = 0; // slot the next entry goes to
  let size = 0;
  return {
    get size() {
      return size;
    },
    record(entry) {
      ring[next] = entry;
      next = (next + 1) % capacity;
      size = Math.min(size + 1, capacity);
    },
    recent(limit) {
      const out: JournalEntry[] = [];
      for (let i = 1; i <= Math.min(limit, size); i++) out.push(ring[(next - i + capacity) % capacity]!);
      return out;
    },
    clear() {
      ring.fill(undefined);
      next = 0;
      size = 0;
    },
  };
}
