import { expect, test } from 'bun:test';
import { quantise } from '../../services/bacen-sandbox/dict/entries/statistics.ts';

test('settlement counters are quantised up on the scale 0, 1, 5, 10, 50, 100, 500, 1000 ... (spec: 3 → 5, 190 → 500)', () => {
  expect([0, 1, 2, 3, 5, 6, 10, 11, 50, 51, 190, 500, 501, 5001].map(quantise)).toEqual([0, 1, 5, 5, 5, 10, 10, 50, 50, 100, 500, 500, 1000, 10000]);
});
