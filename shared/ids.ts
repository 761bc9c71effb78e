// PIX identifiers (PIX.md § Participants and identifiers): EndToEndId, ReturnId, BizMsgIdr/MsgId.
import { randomBytes } from 'node:crypto';
import { fail, ok, type Result } from './result.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ISPB = /^[0-9A-Z]{8}$/;

export const END_TO_END_ID = /^E[0-9A-Z]{8}\d{12}[a-zA-Z0-9]{11}$/;
export const RETURN_ID = /^D[0-9A-Z]{8}\d{12}[a-zA-Z0-9]{11}$/;
export const MSG_ID = /^M[0-9A-Z]{8}[a-zA-Z0-9]{23}$/;

/** Uniform over the 62 symbols: bytes ≥ 248 are redrawn so no symbol is favoured (modulo bias). */
export function randomAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** yyyyMMddHHmm in UTC. */
export function stampUtc(at: Date): string {
  const iso = at.toISOString(); // 2026-11-25T15:13:02.000Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
}

function assertIspb(ispb: string): void {
  if (!ISPB.test(ispb)) throw new Error(`not an ISPB: ${ispb}`);
}

export function newEndToEndId(payerIspb: string, at: Date): string {
  assertIspb(payerIspb);
  return `E${payerIspb}${stampUtc(at)}${randomAlnum(11)}`;
}

export function newReturnId(ispb: string, at: Date): string {
  assertIspb(ispb);
  return `D${ispb}${stampUtc(at)}${randomAlnum(11)}`;
}

export function newMsgId(ispb: string): string {
  assertIspb(ispb);
  return `M${ispb}${randomAlnum(23)}`;
}

/** The instant an EndToEndId/ReturnId carries (its yyyyMMddHHmm), or null when the stamp is not a real time. */
export function timeOfId(id: string): Date | null {
  const s = id.slice(9, 21);
  const [y, mo, d, h, mi] = [s.slice(0, 4), s.slice(4, 6), s.slice(6, 8), s.slice(8, 10), s.slice(10, 12)].map(Number) as [number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi));
  const roundTrips = at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d && at.getUTCHours() === h && at.getUTCMinutes() === mi;
  return roundTrips ? at : null;
}

function parseStamped(value: unknown, pattern: RegExp, field: string, what: string): Result<string> {
  if (typeof value !== 'string' || !pattern.test(value)) {
    return fail('InvalidRequest', `${field} must be a ${what} (${pattern.source})`, field, 'format');
  }
  if (timeOfId(value) === null) return fail('InvalidRequest', `${field} carries an impossible date/time`, field, 'date');
  return ok(value);
}

export const parseEndToEndId = (value: unknown, field = 'endToEndId') => parseStamped(value, END_TO_END_ID, field, 'EndToEndId');
export const parseReturnId = (value: unknown, field = 'returnId') => parseStamped(value, RETURN_ID, field, 'ReturnId');

export function parseMsgId(value: unknown, field = 'msgId'): Result<string> {
  if (typeof value !== 'string' || !MSG_ID.test(value)) return fail('InvalidRequest', `${field} must be a MsgId (${MSG_ID.source})`, field, 'format');
  return ok(value);
}

export function parseIspb(value: unknown, field = 'ispb'): Result<string> {
  if (typeof value !== 'string' || !ISPB.test(value)) return fail('InvalidRequest', `${field} must be an ISPB (8 characters [0-9A-Z])`, field, 'format');
  return ok(value);
}
