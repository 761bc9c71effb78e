import { describe, expect, test } from 'bun:test';
import { cidMessage, computeCid, VSYNC_EMPTY, vsyncAdd, vsyncOf, vsyncRemove, xorHex } from '../../shared/dict/cid.ts';

// The DICT API spec's worked example ("Cálculo do CID").
const SPEC_ENTRY = {
  keyType: 'PHONE',
  key: '+5511987654321',
  ownerTaxIdNumber: '11122233300',
  ownerName: 'João Silva',
  ownerTradeName: null,
  participant: '12345678',
  branch: '00001',
  accountNumber: '0007654321',
  accountType: 'CACC',
};
const SPEC_CID = '28c06eb41c4dc9c3ae114831efcac7446c8747777fca8b145ecd31ff8480ae88';

describe('CID', () => {
  test('matches the spec example: PHONE +5511987654321 with RequestId bytes 1..16', () => {
    expect(cidMessage(SPEC_ENTRY)).toBe('PHONE&+5511987654321&11122233300&João Silva&&12345678&00001&0007654321&CACC');
    expect(computeCid(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), SPEC_ENTRY)).toBe(SPEC_CID);
  });
  test('a RequestId UUID string is its 16 bytes in order', () => {
    expect(computeCid('01020304-0506-0708-090a-0b0c0d0e0f10', SPEC_ENTRY)).toBe(SPEC_CID);
  });
  test('any attribute change changes the CID', () => {
    expect(computeCid('01020304-0506-0708-090a-0b0c0d0e0f10', { ...SPEC_ENTRY, accountNumber: '0007654322' })).not.toBe(SPEC_CID);
  });
});

describe('VSync', () => {
  const a = computeCid('00000000-0000-4000-8000-000000000001', SPEC_ENTRY);
  const b = computeCid('00000000-0000-4000-8000-000000000002', SPEC_ENTRY);
  test('the empty set is 64 zeros', () => {
    expect(vsyncOf([])).toBe(VSYNC_EMPTY);
    expect(VSYNC_EMPTY).toHaveLength(64);
  });
  test('adding then removing a CID is one XOR each and restores the VSync', () => {
    const v = vsyncAdd(vsyncAdd(VSYNC_EMPTY, a), b);
    expect(v).toBe(vsyncOf([b, a]));
    expect(vsyncRemove(v, b)).toBe(a);
    expect(vsyncRemove(vsyncRemove(v, a), b)).toBe(VSYNC_EMPTY);
  });
  test('XOR of a value with itself is zero and hex stays lowercase and 64 long', () => {
    expect(xorHex(a, a)).toBe(VSYNC_EMPTY);
    expect(xorHex(a, b)).toMatch(/^[0-9a-f]{64}$/);
  });
});

test('VSync matches the spec example: XOR of its three CIDs', () => {
  expect(
    vsyncOf([
      '28c06eb41c4dc9c3ae114831efcac7446c8747777fca8b145ecd31ff8480ae88',
      '4d4abb9168114e349672b934d16ed201a919cb49e28b7f66a240e62c92ee007f',
      'fce514f84f37934bc8aa0f861e4f7392273d71b9d18e8209d21e4192a7842058',
    ]),
  ).toBe('996fc1dd3b6b14bcf0c9fe8320eb66d7e2a3fd874ccf767b2e939641b1ea8eaf');
});
