// A small codec language for DICT XML bodies: one declaration per message gives both the builder (canonical
// XML through shared/xml/build.ts, so the signer takes its fast path) and the parser (shared/xml/parse.ts,
// bounded and DTD-free), so the two cannot drift. Element names are the spec's (openapi/examples); property
// names are the element names with a lowercase first letter (`TaxIdNumber` → `taxIdNumber`).
import { fail, ok, type Result } from '../result.ts';
import { buildCanonicalXml, el, type XmlElement } from '../xml/build.ts';
import { parseXml } from '../xml/parse.ts';

export interface Codec<T> {
  /** children of the element that holds the value */
  build(value: T): (XmlElement | string)[];
  /** attributes of that element, when the value has any */
  attrs?(value: T): Record<string, string> | null;
  parse(node: unknown, path: string): Result<T>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function textOf(node: unknown): string | null {
  if (typeof node === 'string') return node;
  if (isRecord(node)) {
    const t = node['#text'];
    if (typeof t === 'string') return t;
    if (typeof t === 'number') return String(t);
    return Object.keys(node).every((k) => k.startsWith('@')) ? '' : null;
  }
  return null;
}

export const text: Codec<string> = {
  build: (v) => [v],
  parse: (node, path) => {
    const t = textOf(node);
    return t === null ? fail('InvalidRequest', `${path} must be text`, path, 'type:string') : ok(t);
  },
};

/** Text checked against a list of allowed values. */
export function oneOf<const V extends string>(values: readonly V[]): Codec<V> {
  return {
    build: (v) => [v],
    parse: (node, path) => {
      const t = textOf(node);
      if (t === null || !(values as readonly string[]).includes(t)) return fail('InvalidRequest', `${path} must be one of ${values.join(', ')}`, path, 'enum');
      return ok(t as V);
    },
  };
}

export const bool: Codec<boolean> = {
  build: (v) => [v ? 'true' : 'false'],
  parse: (node, path) => {
    const t = textOf(node);
    return t === 'true' ? ok(true) : t === 'false' ? ok(false) : fail('InvalidRequest', `${path} must be true or false`, path, 'type:boolean');
  },
};

export const int: Codec<number> = {
  build: (v) => [String(v)],
  parse: (node, path) => {
    const t = textOf(node);
    return t !== null && /^-?\d+$/.test(t) ? ok(Number(t)) : fail('InvalidRequest', `${path} must be an integer`, path, 'type:integer');
  },
};

export interface FieldSpec {
  xml: string;
  codec: Codec<any>;
  optional: boolean;
}

/** A required child element. */
export const f = (xml: string, codec: Codec<any> = text): FieldSpec => ({ xml, codec, optional: false });
/** An optional child element (absent, or undefined/null on build). */
export const opt = (xml: string, codec: Codec<any> = text): FieldSpec => ({ xml, codec, optional: true });

export const propOf = (xml: string) => xml.charAt(0).toLowerCase() + xml.slice(1);

/** An element with child elements, in the declared order. */
export function struct<T>(fields: readonly FieldSpec[]): Codec<T> {
  return {
    build: (value) => {
      const v = value as Record<string, unknown>;
      const out: XmlElement[] = [];
      for (const fs of fields) {
        const x = v[propOf(fs.xml)];
        if (x === undefined || x === null) {
          if (!fs.optional) throw new Error(`building ${fs.xml}: required value missing`);
          continue;
        }
        const attrs = fs.codec.attrs?.(x) ?? null;
        out.push(el(fs.xml, attrs, ...fs.codec.build(x)));
      }
      return out;
    },
    parse: (node, path) => {
      if (!isRecord(node)) return fail('InvalidRequest', `${path || 'document'} must have child elements`, path || '(body)', 'type:object');
      const out: Record<string, unknown> = {};
      for (const fs of fields) {
        const child = node[fs.xml];
        const p = path ? `${path}.${fs.xml}` : fs.xml;
        if (child === undefined) {
          if (fs.optional) continue;
          return fail('InvalidRequest', `${p} is required`, p, 'required');
        }
        if (Array.isArray(child) && !(fs.codec as { many?: boolean }).many) return fail('InvalidRequest', `${p} appears more than once`, p, 'max-items');
        const parsed = fs.codec.parse(child, p);
        if (!parsed.ok) return parsed;
        out[propOf(fs.xml)] = parsed.value;
      }
      return ok(out as T);
    },
  };
}

/** `<Wrapper><Item/>...</Wrapper>`: the codec of the wrapper, holding an array of `item`. */
export function list<T>(itemXml: string, item: Codec<T>, itemsMax = 10_000): Codec<T[]> {
  return {
    build: (values) => values.map((v) => el(itemXml, item.attrs?.(v) ?? null, ...item.build(v))),
    parse: (node, path) => {
      if (node === '' || node === undefined) return ok([]);
      if (!isRecord(node)) return fail('InvalidRequest', `${path} must hold ${itemXml} elements`, path, 'type:array');
      const raw = node[itemXml];
      const items = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      if (items.length > itemsMax) return fail('InvalidRequest', `${path} holds more than ${itemsMax} items`, path, 'max-items');
      const out: T[] = [];
      for (let i = 0; i < items.length; i++) {
        const parsed = item.parse(items[i], `${path}.${itemXml}[${i}]`);
        if (!parsed.ok) return parsed;
        out.push(parsed.value);
      }
      return ok(out);
    },
  };
}

/** Text content plus attributes: `<Key hasEntry="true">x</Key>` ↔ `{ value: 'x', hasEntry: 'true' }`. */
export function withAttrs<const A extends string>(attrNames: readonly A[], hasText: boolean): Codec<Record<A, string> & { value?: string }> {
  return {
    build: (v) => (hasText && v.value !== undefined ? [v.value] : []),
    attrs: (v) => {
      const a: Record<string, string> = {};
      for (const n of attrNames) if (v[n] !== undefined) a[n] = v[n];
      return a;
    },
    parse: (node, path) => {
      const out: Record<string, string> = {};
      if (hasText) {
        const t = textOf(node);
        if (t === null) return fail('InvalidRequest', `${path} must be text`, path, 'type:string');
        out.value = t;
      }
      for (const n of attrNames) {
        const a = isRecord(node) ? node[`@${n}`] : undefined;
        if (typeof a !== 'string') return fail('InvalidRequest', `${path}@${n} is required`, `${path}@${n}`, 'required');
        out[n] = a;
      }
      return ok(out as Record<A, string> & { value?: string });
    },
  };
}

export interface Message<T> {
  root: string;
  build(value: T): string;
  parse(xml: string): Result<T>;
}

/** A whole document: its root element and the codec of its content. `Signature` is added by the signer
 *  and ignored when parsing (verification happens before). */
export function message<T>(root: string, codec: Codec<T>): Message<T> {
  return {
    root,
    build: (value) => buildCanonicalXml(el(root, null, ...codec.build(value))),
    parse: (xml) => {
      const doc = parseXml(xml);
      if (!doc.ok) return doc;
      const body = doc.value[root];
      if (body === undefined) return fail('InvalidRequest', `expected a ${root} document`, '(body)', 'root');
      return codec.parse(body === '' ? {} : body, '');
    },
  };
}
