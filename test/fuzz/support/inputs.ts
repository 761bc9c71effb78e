// Input generators for the endpoint fuzz tests: a schema-valid value for any route schema (the TypeBox
// JSON Schema Elysia keeps on each route), mutations of it (a field given an odd value, removed, or an
// extra or prototype-polluting key added), and the odd values themselves: wrong types, huge and unicode
// strings, negative/fractional/huge amounts, broken JSON. Hints steer a named field to values that exist
// in the fixture (a registered key, an account) so a valid request reaches the service's deeper code.
import fc from 'fast-check';

export type Schema = Record<string, any>;
/** field name → values known to the fixture (tried alongside the schema's own values) */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/** Strings a valid value draws at most: long enough for every schema's minimum, short enough to keep a run quick. */
const VALID_STRING_CHARS_MAX = 64;
/** Items of a generated array: a few show the shape; the schema's own maxItems is fuzzed by the odd values. */
const VALID_ARRAY_ITEMS_MAX = 4;

const text = (maxLength: number, minLength = 0) => fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
);

function numberOf(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : -1e6);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum : 1e6);
  const arb = integer ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return arb.filter((n) => (schema.exclusiveMinimum === undefined || n > schema.exclusiveMinimum) && (schema.exclusiveMaximum === undefined || n < schema.exclusiveMaximum));
}

function stringOf(schema: Schema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? VALID_STRING_CHARS_MAX, VALID_STRING_CHARS_MAX));
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'numeric') return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 }).map(String);
  if (typeof schema.pattern === 'string') {
    // stretched to the length bounds rather than filtered: a filter that rarely passes (16+ characters
    // from `+`) spins synchronously; repeating a match keeps `^[...]+$` patterns valid
    const limit = schema.maxLength ?? Infinity;
    return fc.stringMatching(new RegExp(schema.pattern)).map((s) => (s.length === 0 || s.length >= minLength ? s : s.repeat(Math.ceil(minLength / s.length))).slice(0, limit));
  }
  return text(maxLength, minLength);
}

/** A value the schema accepts (or, for the few shapes not modelled, a plausible one). */
export function validOf(schema: Schema, hints: Hints = {}, name = ''): fc.Arbitrary<unknown> {
  const own = schemaArb(schema, hints);
  const hint = hints[name];
  return hint === undefined ? own : fc.oneof({ weight: 2, arbitrary: hint }, { weight: 1, arbitrary: own });
}

function schemaArb(schema: Schema, hints: Hints): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.anyOf)) {
    // t.Numeric: bounds sit next to anyOf and apply to every branch
    const bounds = { ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}), ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}) };
    return fc.oneof(...schema.anyOf.map((s: Schema) => schemaArb({ ...bounds, ...s }, hints)));
  }
  switch (schema.type) {
    case 'object': {
      const properties: Record<string, Schema> = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, validOf(s, hints, k)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []) as string[] });
    }
    case 'string': return stringOf(schema);
    case 'integer': return numberOf(schema, true);
    case 'number': return numberOf(schema, false);
    case 'boolean': return fc.boolean();
    case 'array': return fc.array(schemaArb(schema.items ?? {}, hints), { maxLength: Math.min(schema.maxItems ?? VALID_ARRAY_ITEMS_MAX, VALID_ARRAY_ITEMS_MAX) });
    case 'null': return fc.constant(null);
    default: return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Amount texts a parser must refuse or read exactly: signs, exponents, separators, other digits, overflow. */
export const AMOUNTISH = [
  '-1.00', '0.00', '-0.00', '+1.00', '0.001', '1.5', '1.', '.50', '1e3', '1E2', '12,34', ' 1.00', '1.00 ', '1.00\u0000',
  '\u0661\u0662.\u0663\u0664', '\uff11.00', 'NaN', 'Infinity', '0x10', '00001.00', '999999999999999.99', '1000000000000000.00',
  '99999999999999999999.99', '9'.repeat(40) + '.00', '1_000.00',
];

/** Strings with a history of breaking things: empty, control characters, traversal, injection, bidi, JSON-lookalikes. */
export const SPECIAL_STRINGS = [
  '', ' ', '\u0000', '\t\n', '../../etc/passwd', '..%2F..%2F', "'; drop table pix_keys; --", '<script>x</script>', '%00', '%', '%zz',
  '${7*7}', '{{7*7}}', '\u202eevil', '\ud800', '\ufeff', 'null', 'undefined', 'true', '[]', '{}', '__proto__', 'constructor',
  'E12345678202611251830abcdefghijk', 'D00000000000000000000aaaaaaaaaaa', '00000000-0000-0000-0000-000000000000',
];

/** Numbers at the edges: negative, zero, fractions, past 2^53, past int32, floats that overflow. */
export const ODD_NUMBERS = [-1, 0, -0, 0.5, 0.1 + 0.2, 1.005, -1e-7, 72.000001, 1e21, 1e308, -1e308, 2 ** 31, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

/** Nested `depth` levels of arrays: a parser or validator that recurses without a bound overflows the stack. */
export const deeplyNested = (depth: number): unknown => {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Any value a field should not hold (or might, by chance). */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, ...ODD_NUMBERS) },
  { weight: 2, arbitrary: fc.double() .map((n) => (Number.isFinite(n) ? n : 1e308)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => Number(n)) },
  { weight: 3, arbitrary: fc.constantFrom(...AMOUNTISH) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(300, 5_000, 100_000).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(50, 2_000).map(deeplyNested) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Keys that pollute a prototype when a handler merges input into an object naively. */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'];
const POLLUTION = { polluted: 'yes', toString: 'x', isAdmin: true };

/** Sets an own enumerable property even for `__proto__`, so JSON.stringify writes it as a key. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

const clone = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(clone);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setOwn(o, k, clone(x));
    return o;
  }
  return v;
};

/** Every path into a JSON value, root included. */
function pathsOf(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

export type Mutation = { op: 'replace' | 'delete' | 'extra' | 'pollute'; at: number; value: unknown; name: string };

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'extra', 'pollute'),
  at: fc.nat(),
  value: oddValue,
  name: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom(...POLLUTING_KEYS)),
}) as fc.Arbitrary<Mutation>;

/** The valid value with one mutation applied at one of its paths. */
export function mutate(valid: unknown, m: Mutation): unknown {
  const root = clone(valid);
  const paths = pathsOf(root);
  const path = paths[m.at % paths.length]!;
  if (path.length === 0) {
    if (m.op === 'replace' || m.op === 'delete' || root === null || typeof root !== 'object' || Array.isArray(root)) return m.value;
    setOwn(root as Record<string, unknown>, m.op === 'pollute' ? POLLUTING_KEYS[m.at % POLLUTING_KEYS.length]! : m.name, m.op === 'pollute' ? POLLUTION : m.value);
    return root;
  }
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root);
  const last = path[path.length - 1]!;
  switch (m.op) {
    case 'replace':
      parent[last] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      break;
    case 'extra':
    case 'pollute': {
      const target = parent[last] !== null && typeof parent[last] === 'object' && !Array.isArray(parent[last]) ? parent[last] : Array.isArray(parent) ? root : parent;
      if (target === null || typeof target !== 'object' || Array.isArray(target)) return m.value;
      setOwn(target, m.op === 'pollute' ? POLLUTING_KEYS[m.at % POLLUTING_KEYS.length]! : m.name, m.op === 'pollute' ? POLLUTION : m.value);
    }
  }
  return root;
}

/** Bodies no JSON parser should accept, or should accept only with care. */
export const RAW_BODIES = [
  '', '{', '{"a":', '[', 'nul', '{"a":1,}', "{'a':1}", '{"a":1}{"a":2}', '\u0000', '\ufeff{}', 'NaN', '1e999999', '"\\ud800"', '-',
  '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}', '{"a":"\\u0000"}',
  '['.repeat(50_000) + ']'.repeat(50_000), '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000), '<?xml version="1.0"?><a/>', 'a=1&b=2',
];

export const rawBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RAW_BODIES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
);

/** A JSON body: valid for the schema, the valid one mutated, any JSON, or raw text. */
export function bodyOf(schema: Schema | undefined, hints: Hints): fc.Arbitrary<string> {
  const valid = schema === undefined ? fc.jsonValue({ maxDepth: 2 }) : validOf(schema, hints);
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => JSON.stringify(v)) },
    { weight: 5, arbitrary: fc.tuple(valid, mutation).map(([v, m]) => JSON.stringify(mutate(v, m)) ?? 'null') },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: rawBody },
  );
}

/** Header values a client can send (visible ASCII and spaces; the Fetch API refuses control characters). */
export const headerText = (maxLength = 80) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<string | undefined>(
      undefined, 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data',
      'multipart/form-data; boundary=zz', 'application/xml', 'text/xml', 'application/octet-stream', 'application/problem+json', 'garbage',
      'application/json; charset=latin1', 'application/json;', '*/*',
    ),
  },
);

/** Idempotency-Key values: ordinary ones, empty, spaces, very long, non-ASCII-looking. */
export const idempotencyKey: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, '', ' ', 'a b', 'x'.repeat(256), 'x'.repeat(10_000), '%00', 'key\u00e9', '"quoted"', '*', 'null') },
  { weight: 2, arbitrary: headerText(300) },
);

/**
 * Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) is sent as the bytes
 * of its invalid UTF-8 encoding (%ED%A0%80), which is what a careless client would put on the wire.
 */
export function encodeSegment(s: string): string {
  return s.toWellFormed() === s ? encodeURIComponent(s) : encodeURIComponent(s.toWellFormed()).replaceAll('%EF%BF%BD', '%ED%A0%80');
}

/** A path segment from a raw string: percent-encoded, or left with odd raw sequences the URL parser keeps. */
export const oddSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeSegment) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeSegment) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_STRINGS).map(encodeSegment) },
  { weight: 2, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '%2e%2e', '..', '.', '%C0%AF', '%FF', ';x=1', 'a%2Fb', '%u0041', '+', '%20', '~') },
  { weight: 1, arbitrary: fc.constantFrom(500, 5_000, 20_000).map((n) => 'k'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...AMOUNTISH).map(encodeSegment) },
);

/** A query string: the schema's fields (valid or odd), repeated or bracketed names, broken encodings. */
export function queryOf(schema: Schema | undefined, hints: Hints): fc.Arbitrary<string> {
  const fields = Object.entries<Schema>(schema?.properties ?? {});
  const param = fields.length === 0
    ? fc.tuple(fc.constantFrom('limit', 'page', 'q', 'x'), fc.string({ maxLength: 10 }))
    : fc.tuple(fc.constantFrom(...fields.map(([k]) => k)), fc.oneof(fc.constant(undefined), fc.string({ maxLength: 10 })));
  const valid = schema === undefined ? fc.constant('') : validOf(schema, hints).map((v) => new URLSearchParams(Object.entries(v as object).map(([k, x]): [string, string] => [k, String(x)])).toString());
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 3,
      arbitrary: fc.tuple(valid, param, oddValue).map(([q, [k], odd]) => {
        const p = new URLSearchParams(q);
        p.set(k, typeof odd === 'string' ? odd : JSON.stringify(odd) ?? '');
        return p.toString();
      }),
    },
    { weight: 1, arbitrary: fc.tuple(valid, param).map(([q, [k, v]]) => `${q}&${k}=${encodeSegment(v ?? '')}&${k}=2`) },
    { weight: 1, arbitrary: fc.constantFrom('limit=%zz', 'limit[]=1', '__proto__[polluted]=yes', 'constructor[prototype][polluted]=yes', 'limit=1e3', 'limit=-1', 'limit=0x10', '=', '&&&', '%', 'a=%E0%A4%A', 'limit=' + '9'.repeat(400)) },
  );
}
