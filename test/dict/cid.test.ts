// The CID our service stores for an entry is the spec's (DICT API, "Cálculo do CID"), and the VSync kept
// incrementally equals the XOR of the CIDs.
import { describe, expect, test } from 'bun:test';
import { vsyncOf, VSYNC_EMPTY, xorHex } from '../../shared/dict/cid.ts';
import { cidOfEntry } from '../../services/dict/keys/service.ts';

const SPEC_REQUEST_ID = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
const requestIdUuid = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

describe('CID', () => {
  test('an entry\'s CID matches the spec\'s worked example (PHONE +5511987654321, RequestId bytes 1..16)', () => {
    // the spec's example writes the branch as 00001: the CID covers the attribute exactly as held
    const cid = cidOfEntry(requestIdUuid(SPEC_REQUEST_ID), {
      key: '+5511987654321',
      keyType: 'PHONE',
      account: { participant: '12345678', branch: '00001', accountNumber: '0007654321', accountType: 'CACC', openingDate: new Date('2010-01-10T03:00:00Z') },
      owner: { type: 'NATURAL_PERSON', taxIdNumber: '11122233300', name: 'João Silva' },
      creationDate: new Date(),
      keyOwnershipDate: new Date(),
    });
    expect(cid).toBe('28c06eb41c4dc9c3ae114831efcac7446c8747777fca8b145ecd31ff8480ae88');
  });

  test('VSync of a set is its CIDs XORed; removing a CID is the same XOR, back to the empty 64 zeros', () => {
    const a = '28c06eb41c4dc9c3ae114831efcac7446c8747777fca8b145ecd31ff8480ae88';
    const b = '4d4abb9168114e349672b934d16ed201a919cb49e28b7f66a240e62c92ee007f';
    const both = vsyncOf([a, b]);
    expect(both).toBe(xorHex(a, b));
    expect(xorHex(xorHex(both, a), b)).toBe(VSYNC_EMPTY);
  });
});
