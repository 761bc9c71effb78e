// Safe XML intake for ISO 20022 (SPI) and DICT documents. Every document from outside passes these bounds
// before any parser sees it: DOCTYPE/ENTITY declarations are refused outright (XXE and entity expansion
// "billion laughs" need them, and neither SPI nor DICT ever uses them), the size is bounded before parsing
// and the nesting depth while scanning, so a hostile document costs one linear pass and never a DOM.
import { DOMParser, type Document } from '@xmldom/xmldom';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { fail, ok, type Result } from '../result.ts';
import { parsePlainXml } from './parse-fast.ts';

/** The largest pacs/camt message SPI sends is far below this; DICT bodies are a few KB. */
export const XML_BYTES_MAX = 1024 * 1024;
/** pacs.008 nests about 12 deep inside its Envelope; 32 leaves room and bounds parser recursion. */
export const XML_DEPTH_MAX = 32;

const DECLARATION_RE = /<!(DOCTYPE|ENTITY|ATTLIST|ELEMENT|NOTATION)/i;

/** The size bound alone: what must hold before even the signer's one-pass canonical scan looks at a document. */
export function checkXmlSize(xml: string): Result<void> {
  // UTF-16 length is a lower bound of UTF-8 bytes and 3× an upper bound: only count when it matters
  if (xml.length > XML_BYTES_MAX || (xml.length * 3 > XML_BYTES_MAX && Buffer.byteLength(xml, 'utf8') > XML_BYTES_MAX)) {
    return fail('BodyTooLarge', `XML document exceeds ${XML_BYTES_MAX} bytes`, undefined, 'max-bytes');
  }
  return ok(undefined);
}

/** Size, declaration and depth checks; the reason is a one-line value, nothing is thrown. */
export function checkXmlBounds(xml: string): Result<void> {
  const size = checkXmlSize(xml);
  if (!size.ok) return size;
  if (DECLARATION_RE.test(xml)) {
    return fail('InvalidRequest', 'XML document declares a DOCTYPE or entities, which are refused (XXE / entity expansion)', undefined, 'no-doctype');
  }
  const depth = maxDepth(xml);
  if (depth > XML_DEPTH_MAX) return fail('InvalidRequest', `XML nesting deeper than ${XML_DEPTH_MAX}`, undefined, 'max-depth');
  return ok(undefined);
}

/** Nesting depth of elements, stopping early past the bound; comments, CDATA and PIs are skipped. */
function maxDepth(xml: string): number {
  let depth = 0;
  let deepest = 0;
  let i = xml.indexOf('<');
  while (i >= 0 && i < xml.length) {
    const c = xml.charCodeAt(i + 1);
    if (xml.startsWith('<!--', i)) i = skipPast(xml, i, '-->');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(xml, i, ']]>');
    else if (c === 63 /* ? */) i = skipPast(xml, i, '?>');
    else {
      const close = xml.indexOf('>', i);
      if (close < 0) break;
      if (c === 47 /* / */) depth--;
      else if (xml.charCodeAt(close - 1) !== 47) {
        depth++;
        if (depth > deepest) deepest = depth;
        if (deepest > XML_DEPTH_MAX) return deepest;
      }
      i = close + 1;
    }
    i = xml.indexOf('<', i);
  }
  return deepest;
}

function skipPast(xml: string, from: number, end: string): number {
  const at = xml.indexOf(end, from);
  return at < 0 ? xml.length : at + end.length;
}

const objectParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false, // ids and amounts stay strings: `0001` is a branch, not 1
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true, // only the five predefined entities: declarations were refused above
  htmlEntities: false,
  maxNestedTags: XML_DEPTH_MAX,
});

/**
 * ISO 20022 / DICT XML to a plain object (namespace prefixes removed, attributes as `@name`). A document in
 * the plain subset our SPI messages are written in is read in one pass (parse-fast.ts: no DOCTYPE, entity
 * or comment can be in it, so it needs no validator); anything else takes the bounds, fast-xml-parser's
 * validator and its parse.
 */
export function parseXml(xml: string): Result<Record<string, unknown>> {
  const size = checkXmlSize(xml);
  if (!size.ok) return size;
  const plain = parsePlainXml(xml);
  return plain ? ok(plain) : parseXmlGeneral(xml);
}

/** parseXml without the one-pass reader: bounds, fast-xml-parser's validator, its parse (the tests hold the
 *  one-pass reader to this path's output). */
export function parseXmlGeneral(xml: string): Result<Record<string, unknown>> {
  const bounds = checkXmlBounds(xml);
  if (!bounds.ok) return bounds;
  try {
    return ok(objectParser.parse(xml, true) as Record<string, unknown>);
  } catch (e) {
    const detail = typeof e === 'object' && e && 'err' in e ? JSON.stringify((e as { err: unknown }).err) : String(e);
    return fail('InvalidRequest', `XML is not well-formed: ${detail}`, undefined, 'well-formed');
  }
}

/** A DOM for signature work (xml-crypto needs @xmldom/xmldom), after the same bounds. */
export function parseXmlDom(xml: string): Result<Document> {
  const bounds = checkXmlBounds(xml);
  if (!bounds.ok) return bounds;
  let problem: string | null = null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning' && problem === null) problem = message;
      },
    }).parseFromString(xml, 'text/xml');
    if (problem !== null || !doc.documentElement) return fail('InvalidRequest', `XML is not well-formed: ${problem ?? 'no root element'}`, undefined, 'well-formed');
    return ok(doc);
  } catch (e) {
    return fail('InvalidRequest', `XML is not well-formed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, undefined, 'well-formed');
  }
}

const objectBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: false, processEntities: true });

/** The inverse of parseXml, for documents that are not signed (signed ones use buildCanonicalXml). */
export function buildXml(obj: Record<string, unknown>): string {
  return objectBuilder.build(obj) as string;
}
