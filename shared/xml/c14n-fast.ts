// Proves, in one linear pass, that a document is already in exclusive canonical form (exc-c14n without
// comments, no InclusiveNamespaces), so the signer can digest its bytes as they are instead of building a
// DOM and canonicalising it: the per-message cost drops from a DOM parse + c14n to a scan + SHA-256.
//
// The accepted subset (anything else returns null and the signer takes the general DOM path):
// - an optional leading XML declaration, whitespace (space/tab/LF) around the root, nothing else outside it;
// - no comments, PIs, CDATA, DOCTYPE, self-closing tags, prefixed element or attribute names;
// - tags written as c14n writes them: `<name xmlns="..." a="..." b="...">` with single spaces, double
//   quotes, the namespace declaration first, attributes in strictly increasing name order, `</name>`;
// - a default-namespace declaration only where exc-c14n renders one (its value differs from the parent's);
// - text escaped as c14n escapes it (`&amp; &lt; &gt; &#xD;` only; no raw `>` or CR); attribute values
//   escaped as c14n does (`&amp; &lt; &quot; &#x9; &#xA; &#xD;` only; no raw tab, LF or CR).
// Under these rules the bytes of the root element ARE its exc-c14n output; tests check this against
// xml-crypto's canonicaliser on the same inputs.
import { XML_DEPTH_MAX } from './parse.ts';

/** Elements this deep (root = 0) get their spans recorded: the signer needs root, AppHdr/Document, Sgntr. */
export const SCAN_RECORD_DEPTH_MAX = 2;

export interface ElementSpan {
  name: string;
  depth: number;
  /** index of the parent's span in `elements`, -1 for the root */
  parent: number;
  /** offset of `<` */
  start: number;
  /** offset just after the start tag's `>` */
  startTagEnd: number;
  /** offset of the end tag's `</` */
  contentEnd: number;
  /** offset just after the end tag's `>` */
  end: number;
  /** the in-scope default namespace ('' when none) */
  defaultNs: string;
  /** the start tag carries its own `xmlns="..."` */
  declaresNs: boolean;
}

export interface CanonicalScan {
  /** spans of the elements with depth <= SCAN_RECORD_DEPTH_MAX, in document order */
  elements: ElementSpan[];
}

const NAME_RE = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const TEXT_RE = /[^<&>\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]*/y;
const ATTR_VALUE_RE = /[^"<&\t\n\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]*/y;
const XML_DECL_RE = /<\?xml[ \t\n][^?<>]*\?>/y;
const SPACE_RE = /[ \t\n]*/y;
const TEXT_ENTITIES = ['&amp;', '&lt;', '&gt;', '&#xD;'];
const ATTR_ENTITIES = ['&amp;', '&lt;', '&quot;', '&#x9;', '&#xA;', '&#xD;'];
const LT = 60;
const GT = 62;
const SLASH = 47;
const SPACE = 32;
const QUOTE = 34;
const AMP = 38;
const EQ = 61;

function matchAt(re: RegExp, s: string, at: number): number {
  re.lastIndex = at;
  return re.test(s) ? re.lastIndex : -1;
}

function entityAt(s: string, at: number, allowed: readonly string[]): number {
  for (const e of allowed) if (s.startsWith(e, at)) return at + e.length;
  return -1;
}

/** Skips an escaped run (text or attribute value); returns the offset of the first byte it may not skip. */
function skipEscaped(s: string, at: number, re: RegExp, entities: readonly string[]): number {
  let i = at;
  for (;;) {
    i = matchAt(re, s, i);
    if (s.charCodeAt(i) !== AMP) return i;
    i = entityAt(s, i, entities);
    if (i < 0) return -1;
  }
}

/** The document's spans when its root element is byte-for-byte exc-c14n canonical; null otherwise. */
export function scanCanonical(xml: string): CanonicalScan | null {
  if (!xml.isWellFormed()) return null;
  let i = 0;
  if (xml.startsWith('<?xml', 0)) {
    i = matchAt(XML_DECL_RE, xml, 0);
    if (i < 0) return null;
  }
  i = matchAt(SPACE_RE, xml, i);
  if (xml.charCodeAt(i) !== LT) return null;

  const names: string[] = [];
  const defaults: string[] = [];
  const recorded: number[] = []; // index into elements for open elements at depth <= SCAN_RECORD_DEPTH_MAX, else -1
  const elements: ElementSpan[] = [];
  for (;;) {
    if (xml.charCodeAt(i) === LT) {
      if (xml.charCodeAt(i + 1) === SLASH) {
        const nameEnd = matchAt(NAME_RE, xml, i + 2);
        const top = names.length - 1;
        if (nameEnd < 0 || top < 0 || xml.slice(i + 2, nameEnd) !== names[top] || xml.charCodeAt(nameEnd) !== GT) return null;
        const rec = recorded[top]!;
        if (rec >= 0) {
          elements[rec]!.contentEnd = i;
          elements[rec]!.end = nameEnd + 1;
        }
        names.pop();
        defaults.pop();
        recorded.pop();
        i = nameEnd + 1;
        if (names.length === 0) break;
        continue;
      }
      const nameEnd = matchAt(NAME_RE, xml, i + 1);
      if (nameEnd < 0) return null; // comment, PI, CDATA, DOCTYPE or a bad name
      let j = nameEnd;
      let ns: string | null = null;
      let prevAttr: string | null = null;
      while (xml.charCodeAt(j) === SPACE) {
        const attrEnd = matchAt(NAME_RE, xml, j + 1);
        if (attrEnd < 0 || xml.charCodeAt(attrEnd) !== EQ || xml.charCodeAt(attrEnd + 1) !== QUOTE) return null;
        const valueEnd = skipEscaped(xml, attrEnd + 2, ATTR_VALUE_RE, ATTR_ENTITIES);
        if (valueEnd < 0 || xml.charCodeAt(valueEnd) !== QUOTE) return null;
        const attr = xml.slice(j + 1, attrEnd);
        if (attr === 'xmlns') {
          if (ns !== null || prevAttr !== null) return null;
          ns = xml.slice(attrEnd + 2, valueEnd);
        } else {
          if (prevAttr !== null && !(attr > prevAttr)) return null;
          prevAttr = attr;
        }
        j = valueEnd + 1;
      }
      if (xml.charCodeAt(j) !== GT) return null; // `/>`, stray whitespace, junk
      const parentNs = defaults.length > 0 ? defaults[defaults.length - 1]! : '';
      // exc-c14n renders a default namespace declaration only where the value changes
      if (ns !== null && ns === parentNs) return null;
      const depth = names.length;
      if (depth >= XML_DEPTH_MAX) return null;
      const defaultNs = ns ?? parentNs;
      names.push(xml.slice(i + 1, nameEnd));
      defaults.push(defaultNs);
      if (depth <= SCAN_RECORD_DEPTH_MAX) {
        recorded.push(elements.length);
        elements.push({
          name: names[depth]!, depth, parent: depth === 0 ? -1 : recorded[depth - 1]!, start: i, startTagEnd: j + 1,
          contentEnd: -1, end: -1, defaultNs, declaresNs: ns !== null,
        });
      } else recorded.push(-1);
      i = j + 1;
      continue;
    }
    const textEnd = skipEscaped(xml, i, TEXT_RE, TEXT_ENTITIES);
    if (textEnd < 0 || xml.charCodeAt(textEnd) !== LT) return null; // raw `>`, CR, control char or EOF
    i = textEnd;
  }
  return matchAt(SPACE_RE, xml, i) === xml.length ? { elements } : null;
}

/**
 * The exc-c14n form of one recorded element's subtree taken alone (a same-document reference): only the
 * apex start tag can differ from the in-document bytes, since it must render the default namespace it
 * inherited (and drops an `xmlns=""` no output ancestor needs any more).
 */
export function canonicalSubtree(xml: string, el: ElementSpan): string {
  const body = xml.slice(el.startTagEnd, el.end);
  const nameEnd = el.start + 1 + el.name.length;
  let attrs = xml.slice(nameEnd, el.startTagEnd);
  if (el.declaresNs) attrs = attrs.replace(/^ xmlns="[^"]*"/, '');
  const nsDecl = el.defaultNs === '' ? '' : ` xmlns="${el.defaultNs}"`;
  return `<${el.name}${nsDecl}${attrs}${body}`;
}
