// Reading a parsed ISO 20022 document (shared/xml/parse.ts parseXml output) with the path of every field,
// so a refusal names the element and the rule it broke. A parser runs inside `readMessage`, which turns
// the first refusal into a Result; nothing escapes the module as an exception (errors are values).
import { fail, ok, type Result } from '../result.ts';
import { parseAmount } from '../money.ts';

export type Node = Record<string, unknown>;

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

class Refusal extends Error {
  constructor(readonly field: string, readonly rule: string, readonly why: string) {
    super(why);
  }
}

export function refuse(field: string, rule: string, why: string): never {
  throw new Refusal(field, rule, why);
}

/** Runs a parser that may `refuse`; the first refusal becomes `InvalidRequest` with field and rule. */
export function readMessage<T>(parse: () => T): Result<T> {
  try {
    return ok(parse());
  } catch (e) {
    if (e instanceof Refusal) return fail('InvalidRequest', `${e.field}: ${e.why}`, e.field, e.rule);
    throw e;
  }
}

/** A cursor on an element: `at('GrpHdr').text('MsgId')` refuses with `…GrpHdr.MsgId` when absent. */
export class Reader {
  constructor(readonly node: Node, readonly path: string) {}

  private raw(name: string): unknown {
    const v = this.node[name];
    if (Array.isArray(v)) refuse(join(this.path, name), 'max-occurs', 'occurs more than once');
    return v;
  }

  has(name: string): boolean {
    return this.node[name] !== undefined;
  }

  at(name: string): Reader {
    const v = this.raw(name);
    if (v === undefined) refuse(join(this.path, name), 'required', 'is missing');
    if (typeof v !== 'object' || v === null) refuse(join(this.path, name), 'structure', 'must hold child elements');
    return new Reader(v as Node, join(this.path, name));
  }

  optAt(name: string): Reader | undefined {
    return this.has(name) ? this.at(name) : undefined;
  }

  /** Repeated element: zero or more children of this name. */
  all(name: string): Reader[] {
    const v = this.node[name];
    if (v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    return list.map((item, i) => {
      if (typeof item !== 'object' || item === null) refuse(`${join(this.path, name)}[${i}]`, 'structure', 'must hold child elements');
      return new Reader(item as Node, `${join(this.path, name)}[${i}]`);
    });
  }

  text(name: string, pattern?: RegExp, rule = 'format'): string {
    const field = join(this.path, name);
    const v = this.raw(name);
    if (v === undefined || v === '') refuse(field, 'required', 'is missing');
    if (typeof v !== 'string') refuse(field, 'structure', 'must be text');
    if (pattern && !pattern.test(v)) refuse(field, rule, `"${v.slice(0, 64)}" does not match ${pattern.source}`);
    return v;
  }

  optText(name: string, pattern?: RegExp, rule = 'format'): string | undefined {
    return this.has(name) ? this.text(name, pattern, rule) : undefined;
  }

  /** Text bounded in length (ISO Max35Text, Max140Text…). */
  boundedText(name: string, lengthMax: number): string {
    const v = this.text(name);
    if (v.length > lengthMax) refuse(join(this.path, name), 'max-length', `longer than ${lengthMax} characters`);
    return v;
  }

  optBoundedText(name: string, lengthMax: number): string | undefined {
    return this.has(name) ? this.boundedText(name, lengthMax) : undefined;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.text(name);
    if (!(allowed as readonly string[]).includes(v)) refuse(join(this.path, name), 'enum', `"${v.slice(0, 16)}" is not one of ${allowed.join(', ')}`);
    return v as T;
  }

  /** ISO 8601 date-time in UTC or with an offset; BACEN writes `2026-11-25T18:30:12.345Z`. */
  dateTime(name: string): Date {
    const v = this.text(name, ISO_DATE_TIME, 'date-time');
    const at = new Date(v);
    if (Number.isNaN(at.getTime())) refuse(join(this.path, name), 'date-time', 'is not a real instant');
    return at;
  }

  optDateTime(name: string): Date | undefined {
    return this.has(name) ? this.dateTime(name) : undefined;
  }

  /** `<Amt Ccy="BRL">12.34</Amt>` → centavos; any other currency or format is refused, never rounded. */
  amount(name: string): bigint {
    const field = join(this.path, name);
    const v = this.raw(name);
    if (v === undefined) refuse(field, 'required', 'is missing');
    if (typeof v !== 'object' || v === null) refuse(field, 'currency', 'must carry Ccy="BRL"');
    const node = v as Node;
    if (node['@Ccy'] !== 'BRL') refuse(field, 'currency', 'must carry Ccy="BRL"');
    const parsed = parseAmount(typeof node['#text'] === 'string' ? node['#text'] : '', field);
    if (!parsed.ok) refuse(field, parsed.error.rule ?? 'format', parsed.error.detail);
    return parsed.value;
  }

  /** Validates with one of the shared/ids.ts parsers (EndToEndId, ReturnId, MsgId, ISPB). */
  id(name: string, parse: (value: unknown, field: string) => Result<string>): string {
    const field = join(this.path, name);
    const v = this.raw(name);
    if (v === undefined || v === '') refuse(field, 'required', 'is missing');
    const parsed = parse(v, field);
    if (!parsed.ok) refuse(field, parsed.error.rule ?? 'format', parsed.error.detail);
    return parsed.value;
  }
}

export const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
