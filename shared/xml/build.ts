// Builds XML directly in exclusive canonical form (start/end tag pairs, sorted attributes, c14n escaping,
// a default namespace only where it changes). The signer recognises such output and digests it as is, the
// fast path (c14n-fast.ts); anything built here must pass scanCanonical, which the tests check.
export interface XmlElement {
  name: string;
  /** default namespace of this element; inherited from the parent when absent */
  ns?: string;
  attrs?: Record<string, string>;
  children?: readonly (XmlElement | string)[];
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;'));
}

export function escapeAttr(s: string): string {
  return s.replace(/[&<"\t\n\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '"' ? '&quot;' : c === '\t' ? '&#x9;' : c === '\n' ? '&#xA;' : '&#xD;',
  );
}

function assertName(name: string): void {
  // names come from code, never from input: a bad one is a bug
  if (!NAME_RE.test(name)) throw new Error(`invalid XML name for the canonical builder: ${name}`);
}

function write(el: XmlElement, parentNs: string, out: string[]): void {
  assertName(el.name);
  const ns = el.ns ?? parentNs;
  out.push('<', el.name);
  if (ns !== parentNs) out.push(' xmlns="', escapeAttr(ns), '"');
  if (el.attrs) {
    for (const k of Object.keys(el.attrs).sort()) {
      assertName(k);
      if (k === 'xmlns') throw new Error('set the namespace with `ns`, not an xmlns attribute');
      out.push(' ', k, '="', escapeAttr(el.attrs[k]!), '"');
    }
  }
  out.push('>');
  for (const c of el.children ?? []) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, ns, out);
  }
  out.push('</', el.name, '>');
}

/** The canonical serialisation of `root` (no XML declaration: c14n has none). */
export function buildCanonicalXml(root: XmlElement): string {
  const out: string[] = [];
  write(root, '', out);
  return out.join('');
}

/** Shorthand for building trees: `el('Amt', { Ccy: 'BRL' }, '12.34')`, `el('Nm', null, 'Ana')`. */
export function el(name: string, attrs: Record<string, string> | null, ...children: (XmlElement | string)[]): XmlElement {
  return attrs ? { name, attrs, children } : { name, children };
}
