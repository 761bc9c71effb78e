// Reconciliation identifiers (PIX.md § Reconciliation; DICT API spec, "Cálculo do CID"):
//   CID   = lowercase hex of HMAC-SHA256(key = the 16 RequestId bytes that created the entry,
//           message = keyType&key&ownerTaxIdNumber&ownerName&ownerTradeName&participant&branch&accountNumber&accountType)
//           with null attributes written as "" and every attribute UTF-8.
//   VSync = XOR of all CIDs of one key type; the empty set is 64 zeros. Adding or removing a CID is one XOR.
import { createHmac } from 'node:crypto';

export const CID_HEX_LENGTH = 64;
export const VSYNC_EMPTY = '0'.repeat(CID_HEX_LENGTH);

const CID_RE = /^[0-9a-f]{64}$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The entry attributes a CID covers; absent ones are null. */
export interface CidEntry {
  keyType: string;
  key: string;
  ownerTaxIdNumber: string;
  ownerName: string | null;
  ownerTradeName: string | null;
  participant: string;
  branch: string | null;
  accountNumber: string;
  accountType: string;
}

export function isCid(s: string): boolean {
  return CID_RE.test(s);
}

export function cidMessage(e: CidEntry): string {
  return [e.keyType, e.key, e.ownerTaxIdNumber, e.ownerName ?? '', e.ownerTradeName ?? '', e.participant, e.branch ?? '', e.accountNumber, e.accountType].join('&');
}

/** The 16 bytes of a RequestId UUID (its hex digits in order). */
export function requestIdBytes(requestId: string): Uint8Array {
  if (!UUID_RE.test(requestId)) throw new Error(`RequestId is not a UUID: ${requestId}`);
  return Buffer.from(requestId.replaceAll('-', ''), 'hex');
}

/** The CID of an entry created by `requestId` (a UUID string or its 16 bytes). */
export function computeCid(requestId: string | Uint8Array, entry: CidEntry): string {
  const key = typeof requestId === 'string' ? requestIdBytes(requestId) : requestId;
  if (key.length !== 16) throw new Error(`the CID key is 16 RequestId bytes, got ${key.length}`);
  return createHmac('sha256', key).update(cidMessage(entry), 'utf8').digest('hex');
}

/** XOR of two 64-hex values (CID or VSync), 8 hex digits at a time. */
export function xorHex(a: string, b: string): string {
  if (a.length !== CID_HEX_LENGTH || b.length !== CID_HEX_LENGTH) throw new Error('XOR takes two 64-hex values');
  let out = '';
  for (let i = 0; i < CID_HEX_LENGTH; i += 8) {
    const x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out;
}

/** VSync after adding a CID; removing it is the same XOR. */
export const vsyncAdd = (vsync: string, cid: string): string => xorHex(vsync, cid);
export const vsyncRemove = (vsync: string, cid: string): string => xorHex(vsync, cid);

/** VSync of a whole set of CIDs. */
export function vsyncOf(cids: Iterable<string>): string {
  let v = VSYNC_EMPTY;
  for (const c of cids) v = xorHex(v, c);
  return v;
}
