// The keys the sandbox seeds for its simulated PSPs (deterministic: entry i is always the same), spread
// over the seeded range so the load test touches every PSP and key type.
import { DICT_SEED_DEFAULT, seedEntryAt } from '../../services/bacen-sandbox/dict/simulation/seed.ts';

export function seededKeys(n: number, seeded = DICT_SEED_DEFAULT): string[] {
  const step = Math.max(1, Math.floor(seeded / n));
  return Array.from({ length: Math.min(n, seeded) }, (_, i) => seedEntryAt(i * step).entry.key);
}
