// Small helpers every sandbox DICT route uses: parse a body or answer 400, check the participant a body
// names is the caller, build a signed reply with the spec envelope (ResponseTime, CorrelationId).
import { randomBytes } from 'node:crypto';
import { HttpProblem, type ErrorCode } from '../../../shared/errors.ts';
import type { Message } from '../../../shared/dict/xml-codec.ts';
import type { Result } from '../../../shared/result.ts';
import { XmlReply } from '../signature/xml-reply.ts';

export function parsed<T>(msg: Message<T>, body: string): T {
  const r = msg.parse(body);
  if (!r.ok) throw HttpProblem.fromDomain(r.error);
  return r.value;
}

export function must<T>(r: Result<T>): T {
  if (!r.ok) throw HttpProblem.fromDomain(r.error);
  return r.value;
}

export function problem(code: ErrorCode, detail: string, field?: string, rule?: string): HttpProblem {
  return HttpProblem.of(code, detail, field ? [{ field, rule: rule ?? 'invalid' }] : undefined);
}

/** A participant acts only for itself: the ISPB a body or header names must be the TLS caller's. */
export function requireSelf(caller: string, named: string, field: string): void {
  if (named !== caller) throw problem('Forbidden', `${field} ${named} is not the calling participant ${caller}`, field, 'caller');
}

export function envelope(now: Date): { responseTime: string; correlationId: string } {
  return { responseTime: now.toISOString(), correlationId: randomBytes(16).toString('hex') };
}

export function reply<T>(msg: Message<T>, value: T, status = 200): XmlReply {
  return new XmlReply(msg.build(value), 'dict', status);
}

export const iso = (d: Date | string | null | undefined): string | undefined => (d == null ? undefined : new Date(d).toISOString());

/** Drops undefined properties so built values and parsed values compare equal. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function requireUuid(value: string, field: string): string {
  if (!UUID_RE.test(value)) throw problem('InvalidRequest', `${field} must be a UUID`, field, 'format');
  return value.toLowerCase();
}

const LIST_LIMIT_DEFAULT = 20;
/** The spec's list operations return at most 200 items per call. */
export const LIST_LIMIT_MAX = 200;
export function listLimit(raw: string | undefined): number {
  if (raw === undefined) return LIST_LIMIT_DEFAULT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > LIST_LIMIT_MAX) throw problem('InvalidRequest', `Limit must be 1..${LIST_LIMIT_MAX}`, 'Limit', 'maximum');
  return n;
}

export function optionalTime(raw: string | undefined, field: string): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw problem('InvalidRequest', `${field} must be an ISO date-time`, field, 'format');
  return d;
}

export const flag = (raw: string | undefined): boolean | undefined => (raw === undefined ? undefined : raw === 'true');

/** Query values that may repeat (`Status=OPEN&Status=CONFIRMED`). */
export function many(url: string, name: string): string[] {
  return new URL(url).searchParams.getAll(name);
}
