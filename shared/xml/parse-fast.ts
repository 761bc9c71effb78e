// A one-pass reader for the plain subset of XML that every SPI message we exchange is written in (our
// signer's and the sandbox's canonical output), giving exactly the object parseXml's fast-xml-parser
// configuration gives. fast-xml-parser (its validator pass, then the parse) costs ~0.5-0.65 ms per signed
// pacs.008 here; this reader ~0.05 ms, and every payment is parsed at least twice (the sandbox reads the
// pacs.008, the SPI service the pacs.002).
//
// The subset, anything else answers null and parseXml takes the general path (its bounds, its validator and
// fast-xml-parser, and their error messages):
// - whitespace around one root element; no XML declaration, comment, PI, CDATA, DOCTYPE or `<!` of any kind,
//   no CR anywhere (the general parser normalises line ends), no self-closing tag;
// - names `[A-Za-z_][A-Za-z0-9_.-]*` with at most one `prefix:` (removed, as removeNSPrefix does); no name
//   that is a property of Object.prototype or `prototype` (fast-xml-parser refuses or renames those);
// - attributes `name="value"` after single spaces, no duplicates, prefixed ones only `xmlns:p` (dropped, as
//   `xmlns` is); values and text may hold the five predefined entities and nothing else after `&`;
// - an element holds either text or child elements (whitespace between children is dropped), never both;
// - nesting less than XML_DEPTH_MAX deep.
// Since DOCTYPE and every entity but the five are outside the subset, the XXE/entity-expansion defences of
// parseXml are unaffected: such a document never reaches this reader's output.
import { XML_DEPTH_MAX } from './parse.ts';

type XmlValue = string | XmlObject | XmlValue[];
interface XmlObject {
  [name: string]: XmlValue;
}

const LT = 60;
const GT = 62;
const SLASH = 47;
const SPACE = 32;
const QUOTE = 34;
const AMP = 38;
const EQ = 61;
const COLON = 58;
const CR = 13;

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

/** Name characters: [A-Za-z0-9_.-] (first one checked separately). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isSpace(c: number): boolean {
  return c === SPACE || c === 9 || c === 10;
}

/** End of a name starting at `at` (with at most one `prefix:`), or -1. */
function nameEnd(xml: string, at: number): number {
  if (!isNameStart(xml.charCodeAt(at))) return -1;
  let i = at + 1;
  let prefixed = false;
  for (;;) {
    const c = xml.charCodeAt(i);
    if (isNameChar(c)) i++;
    else if (c === COLON && !prefixed && isNameStart(xml.charCodeAt(i + 1))) {
      prefixed = true;
      i += 2;
    } else return i;
  }
}

const localName = (qname: string): string => {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
};
const unsafeName = (name: string): boolean => name in Object.prototype || name === 'prototype';

/** Decodes the five predefined entities in s[from, to); null when anything else follows an `&`. */
function decode(xml: string, from: number, to: number): string | null {
  let amp = xml.indexOf('&', from);
  if (amp < 0 || amp >= to) return xml.slice(from, to);
  let out = '';
  let i = from;
  while (amp >= 0 && amp < to) {
    const semi = xml.indexOf(';', amp);
    if (semi < 0 || semi >= to || semi - amp > 5) return null;
    const ch = ENTITIES[xml.slice(amp, semi + 1)];
    if (ch === undefined) return null;
    out += xml.slice(i, amp) + ch;
    i = semi + 1;
    amp = xml.indexOf('&', i);
  }
  return out + xml.slice(i, to);
}

interface Open {
  qname: string;
  name: string;
  attrs: [string, string][] | null;
  children: XmlObject | null;
  /** where the element's content starts (after its start tag) */
  contentStart: number;
}

function addChild(parent: XmlObject, name: string, value: XmlValue): void {
  const existing = parent[name];
  if (existing === undefined) parent[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else parent[name] = [existing, value];
}

/** parseXml's object for a document in the subset above; null for anything else (use the general parser). */
export function parsePlainXml(xml: string): Record<string, unknown> | null {
  if (xml.indexOf('\r') >= 0) return null;
  let i = 0;
  while (isSpace(xml.charCodeAt(i))) i++;
  if (xml.charCodeAt(i) !== LT) return null;
  const doc: XmlObject = {};
  const stack: Open[] = [];
  let done = false;
  while (!done) {
    // i is at a `<`
    if (xml.charCodeAt(i + 1) === SLASH) {
      const end = nameEnd(xml, i + 2);
      const top = stack.pop();
      if (end < 0 || !top || xml.charCodeAt(end) !== GT || xml.slice(i + 2, end) !== top.qname) return null;
      let value: XmlValue;
      if (top.children) {
        // only whitespace may sit between child elements (mixed content is the general parser's)
        value = top.children;
      } else {
        const text = decode(xml, top.contentStart, i);
        if (text === null) return null;
        const trimmed = text.trim();
        if (top.attrs) {
          value = trimmed === '' ? {} : { '#text': trimmed };
        } else value = trimmed;
      }
      if (top.attrs) {
        const obj = value as XmlObject;
        for (const [k, v] of top.attrs) obj[k] = v;
      }
      const parent = stack[stack.length - 1];
      if (parent) {
        if (!parent.children) parent.children = {};
        addChild(parent.children, top.name, value);
      } else {
        doc[top.name] = value;
        done = true;
      }
      i = end + 1;
    } else {
      const end = nameEnd(xml, i + 1);
      if (end < 0) return null; // `<!`, `<?`, a bad name
      const qname = xml.slice(i + 1, end);
      const name = localName(qname);
      if (unsafeName(name)) return null;
      let attrs: [string, string][] | null = null;
      let seen: string[] | null = null;
      let j = end;
      while (xml.charCodeAt(j) === SPACE) {
        const attrEnd = nameEnd(xml, j + 1);
        if (attrEnd < 0 || xml.charCodeAt(attrEnd) !== EQ || xml.charCodeAt(attrEnd + 1) !== QUOTE) return null;
        const valueEnd = xml.indexOf('"', attrEnd + 2);
        if (valueEnd < 0) return null;
        // no raw `<` (not well-formed), tab or LF (attribute-value normalisation is the general parser's)
        for (let k = attrEnd + 2; k < valueEnd; k++) {
          const c = xml.charCodeAt(k);
          if (c === LT || c === 9 || c === 10) return null;
        }
        const attr = xml.slice(j + 1, attrEnd);
        if (seen === null) seen = [attr];
        else if (seen.includes(attr)) return null; // a duplicate is not well-formed
        else seen.push(attr);
        if (attr !== 'xmlns' && !attr.startsWith('xmlns:')) {
          if (attr.includes(':') || unsafeName(attr)) return null;
          const value = decode(xml, attrEnd + 2, valueEnd);
          if (value === null) return null;
          const key = `@${attr}`;
          if (!attrs) attrs = [];
          attrs.push([key, value.trim()]);
        } else if (xml.indexOf('&', attrEnd + 2) >= 0 && xml.indexOf('&', attrEnd + 2) < valueEnd) return null;
        j = valueEnd + 1;
      }
      if (xml.charCodeAt(j) !== GT) return null; // `/>`, other whitespace, junk
      // one level short of the bound: the boundary itself is the general parser's to judge
      if (stack.length + 1 >= XML_DEPTH_MAX) return null;
      const parent = stack[stack.length - 1];
      // an element that opens a child after non-blank text is mixed content
      if (parent && !parent.children && xml.slice(parent.contentStart, i).trim() !== '') return null;
      if (parent && !parent.children) parent.children = {};
      stack.push({ qname, name, attrs, children: null, contentStart: j + 1 });
      i = j + 1;
    }
    if (done) break;
    // text up to the next tag: after a child's end tag only whitespace may follow before the next tag
    const next = xml.indexOf('<', i);
    if (next < 0) return null;
    const top = stack[stack.length - 1]!;
    if (top.children) {
      for (let k = i; k < next; k++) if (!isSpace(xml.charCodeAt(k))) return null;
    } else if (xml.charCodeAt(next + 1) !== SLASH) {
      // the first child of an element: only whitespace may precede it
      for (let k = i; k < next; k++) if (!isSpace(xml.charCodeAt(k))) return null;
    }
    i = next;
  }
  for (let k = i; k < xml.length; k++) if (!isSpace(xml.charCodeAt(k))) return null;
  return doc;
}
