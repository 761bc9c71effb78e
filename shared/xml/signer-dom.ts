// The signer's general path: documents that are not provably canonical (indented with self-closing tags,
// comments, prefixes, entities…) are parsed with @xmldom/xmldom and canonicalised by xml-crypto's
// ExclusiveCanonicalization, the same code the verifier trusts. Slower (a DOM per message), always right.
import { DOMParser, XMLSerializer, type Document, type Element, type Node } from '@xmldom/xmldom';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { fail, ok, type Result } from '../result.ts';
import { parseXmlDom } from './parse.ts';
import { DSIG_NS, SPI_ID_ATTR, SPI_KEYINFO_ID } from './profile.ts';

type El = Element;
const ID_ATTRS = ['Id', 'ID', 'id'];

export function c14n(node: Node): string {
  return new ExclusiveCanonicalization().process(node as never, {}) as string;
}

export function elementChildren(node: Node): El[] {
  const out: El[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as El);
  return out;
}

/** Appends the signature (an XML string) to `parent` and serialises the whole document. */
function appendAndSerialize(doc: Document, parent: El, signature: string): string {
  const sigDoc = new DOMParser().parseFromString(signature, 'text/xml');
  parent.appendChild(doc.importNode(sigDoc.documentElement as never, true));
  return new XMLSerializer().serializeToString(doc as never);
}

/** How many elements carry an ID-like attribute with this value (xml-crypto resolves Id, ID and id). */
export function idCount(doc: Document, value: string): number {
  let n = 0;
  const all = doc.getElementsByTagName('*');
  for (let i = 0; i < all.length; i++) {
    const e = all[i]!;
    for (const a of ID_ATTRS) if (e.getAttribute(a) === value) n++;
  }
  return n;
}

function isEmptyElement(e: El): boolean {
  return e.childNodes.length === 0 || (elementChildren(e).length === 0 && (e.textContent ?? '').trim() === '');
}

export function dictDom(xml: string): Result<{ canonical: string; finish: (signature: string) => string }> {
  const parsed = parseXmlDom(xml);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  const root = doc.documentElement!; // parseXmlDom refuses documents without a root
  const children = elementChildren(root);
  for (const child of children) {
    if (child.localName !== 'Signature') continue;
    if (child.namespaceURI === DSIG_NS && !isEmptyElement(child)) return fail('InvalidRequest', 'the document is already signed', 'Signature', 'unsigned');
    if (child !== children[children.length - 1] || !isEmptyElement(child)) return fail('InvalidRequest', 'a Signature placeholder must be the empty last child of the root', 'Signature', 'placement');
    root.removeChild(child);
  }
  return ok({ canonical: c14n(root), finish: (signature) => appendAndSerialize(doc, root, signature) });
}

export interface SpiDom {
  appHdrId: string;
  documentId: string;
  appHdrCanonical: string;
  documentCanonical: string;
  finish: (signature: string) => string;
}

export function spiDom(xml: string, defaults: { appHdr: string; document: string }): Result<SpiDom> {
  const parsed = parseXmlDom(xml);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  const root = doc.documentElement!; // parseXmlDom refuses documents without a root
  const children = elementChildren(root);
  const [appHdr, document] = children;
  if (root.localName !== 'Envelope' || children.length !== 2 || appHdr?.localName !== 'AppHdr' || document?.localName !== 'Document') {
    return fail('InvalidRequest', 'an SPI message is an Envelope holding exactly AppHdr then Document', 'Envelope', 'structure');
  }
  const sgntrs = elementChildren(appHdr).filter((e) => e.localName === 'Sgntr');
  if (sgntrs.length > 1) return fail('InvalidRequest', 'AppHdr has more than one Sgntr', 'AppHdr.Sgntr', 'structure');
  let sgntr = sgntrs[0];
  if (sgntr && !isEmptyElement(sgntr)) return fail('InvalidRequest', 'AppHdr/Sgntr is not empty: the message is already signed', 'AppHdr.Sgntr', 'unsigned');
  if (sgntr) while (sgntr.firstChild) sgntr.removeChild(sgntr.firstChild);
  else {
    sgntr = doc.createElementNS(appHdr.namespaceURI, appHdr.prefix ? `${appHdr.prefix}:Sgntr` : 'Sgntr');
    appHdr.appendChild(sgntr);
  }
  if (!appHdr.getAttribute(SPI_ID_ATTR)) appHdr.setAttribute(SPI_ID_ATTR, defaults.appHdr);
  if (!document.getAttribute(SPI_ID_ATTR)) document.setAttribute(SPI_ID_ATTR, defaults.document);
  const appHdrId = appHdr.getAttribute(SPI_ID_ATTR)!;
  const documentId = document.getAttribute(SPI_ID_ATTR)!;
  for (const id of [appHdrId, documentId]) {
    if (!/^[A-Za-z_][\w.-]*$/.test(id)) return fail('InvalidRequest', `Id ${id} is not an NCName`, 'Id', 'format');
    if (idCount(doc, id) !== 1) return fail('InvalidRequest', `Id ${id} names more than one element`, 'Id', 'unique-id');
  }
  if (appHdrId === documentId || idCount(doc, SPI_KEYINFO_ID) !== 0) return fail('InvalidRequest', 'AppHdr, Document and KeyInfo need distinct Ids', 'Id', 'unique-id');
  const s = sgntr;
  return ok({
    appHdrId,
    documentId,
    appHdrCanonical: c14n(appHdr),
    documentCanonical: c14n(document),
    finish: (signature) => appendAndSerialize(doc, s, signature),
  });
}
