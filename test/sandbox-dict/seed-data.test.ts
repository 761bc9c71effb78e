import { expect, test } from 'bun:test';
import { checkEntry } from '../../services/bacen-sandbox/dict/entries/validate.ts';
import { seedEntryAt } from '../../services/bacen-sandbox/dict/simulation/seed.ts';

test('seeded entries are valid DICT entries of all five key types, spread over the six simulated PSPs, with unique keys', () => {
  const keys = new Set<string>();
  const types = new Set<string>();
  const psps = new Set<string>();
  for (let i = 0; i < 3_000; i++) {
    const { entry, requestId } = seedEntryAt(i);
    const checked = checkEntry(entry);
    if (!checked.ok) throw new Error(`seed entry ${i} (${entry.key}) is invalid: ${checked.error.detail}`);
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    keys.add(entry.key);
    types.add(entry.keyType);
    psps.add(entry.account.participant);
  }
  expect(keys.size).toBe(3_000);
  expect([...types].sort()).toEqual(['CNPJ', 'CPF', 'EMAIL', 'EVP', 'PHONE']);
  expect(psps.size).toBe(6);
  expect(seedEntryAt(42)).toEqual(seedEntryAt(42));
});
