// XMLDSig signer in BACEN's profile (PIX.md § Signatures and transport).
//
// Profile, common to both forms: SignatureMethod xmldsig-more#rsa-sha256, CanonicalizationMethod
// xml-exc-c14n#, every DigestMethod xmlenc#sha256, KeyInfo/X509Data with X509IssuerSerial (issuer as an
// RFC 4514 string, serial in decimal) followed by X509Certificate (base64 DER).
//
// DICT form: <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"> is the LAST child of the document root;
//   one Reference URI="" with Transforms enveloped-signature, exc-c14n (the whole document minus the
//   signature). An empty `<Signature/>` placeholder at the end of the root is replaced.
// SPI form: <Envelope><AppHdr>…<Sgntr><ds:Signature xmlns:ds="…">…</ds:Signature></Sgntr></AppHdr>
//   <Document>…</Document></Envelope>, with three References, in this order:
//     URI="#key-info-id"  Transforms exc-c14n                          → ds:KeyInfo Id="key-info-id"
//     URI="#<AppHdr Id>"  Transforms enveloped-signature, exc-c14n     → AppHdr (its Sgntr stays, emptied)
//     URI="#<Document Id>" Transforms exc-c14n                         → Document
//   BACEN's own SPI messages write the AppHdr reference as URI="" and the Document reference without a URI
//   (the ISO 20022 BAH convention, resolved by the application); generic verifiers (xmlsec1, xml-crypto)
//   cannot resolve those two, so this profile names AppHdr and Document by an `Id` attribute (kept when the
//   input has one, else `app-hdr-id` / `document-id`). xmlsec1 verifies it with
//     xmlsec1 --verify --trusted-pem ca.crt --id-attr:Id AppHdr --id-attr:Id Document FILE
//   (KeyInfo's Id needs no flag: xmlsec registers Id attributes inside the Signature itself).
//
// Speed: SignedInfo and KeyInfo are canonical templates built once (templates.ts); a document already in
// exclusive canonical form (our builder's output, proved by scanCanonical in one pass) is digested as it
// is; anything else goes through @xmldom/xmldom + xml-crypto's ExclusiveCanonicalization. RSA runs on the
// worker pool (sign-pool.ts). On the fast path the scan is the only pass over the document besides the
// hashes: it refuses everything the bounds check refuses but size (no `<!`, depth below XML_DEPTH_MAX),
// so checkXmlBounds runs only for documents that go on to the DOM; and one promise per message.
import { CryptoHasher } from 'bun';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../result.ts';
import { createDigestSigner, type DigestSignerOptions } from './sign-pool.ts';
import { checkXmlBounds, checkXmlSize } from './parse.ts';
import { canonicalSubtree, scanCanonical, type CanonicalScan, type ElementSpan } from './c14n-fast.ts';
import { dictDom, spiDom } from './signer-dom.ts';
import { SPI_APPHDR_ID, SPI_DOCUMENT_ID, SPI_KEYINFO_ID } from './profile.ts';
import { dictSignedInfo, fillSignedInfo, keyInfoXml, signatureXml, spiSignedInfo, type SignedInfoTemplate } from './templates.ts';

/** Distinct (AppHdr Id, Document Id) pairs whose SignedInfo template is kept; inputs normally use one. */
export const SPI_TEMPLATE_CACHE_MAX = 64;

export interface XmlSignerOptions extends DigestSignerOptions {
  certPem: string;
}

export interface XmlSignerStats {
  /** documents digested as they were (already canonical) */
  fast: number;
  /** documents canonicalised through a DOM */
  general: number;
}

export interface XmlSigner {
  /** DICT form: signature as the last child of the root, over the whole document */
  signDict(xml: string): Promise<Result<string>>;
  /** SPI form: signature in Envelope/AppHdr/Sgntr over KeyInfo, AppHdr and Document */
  signSpi(xml: string): Promise<Result<string>>;
  /** SPI when the root element is `Envelope`, DICT otherwise */
  sign(xml: string): Promise<Result<string>>;
  readonly stats: XmlSignerStats;
  close(): Promise<void>;
}

const sha256 = (s: string) => new CryptoHasher('sha256').update(s).digest() as Uint8Array;
const sha256b64 = (s: string) => new CryptoHasher('sha256').update(s).digest('base64');
const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');

/** An empty placeholder ending the root: `<Signature/>`, `<ds:Signature xmlns:ds="…"></ds:Signature>`… */
const DICT_PLACEHOLDER_RE = /<(?:[A-Za-z_][\w.-]*:)?Signature(?:\s+xmlns(?::[\w.-]+)?\s*=\s*"[^"]*")*\s*(?:\/>|>\s*<\/(?:[A-Za-z_][\w.-]*:)?Signature\s*>)(\s*<\/[^<>]+>\s*)$/;
const SGNTR_PLACEHOLDER_RE = /<Sgntr\s*\/>/;
const ROOT_NAME_RE = /^(?:\s|<\?[^]*?\?>|<!--[^]*?-->)*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/;
const ATTR_RE = / ([A-Za-z_][\w.-]*)="([^"]*)"/y;
const NCNAME_RE = /^[A-Za-z_][\w.-]*$/;
const SGNTR_START_TAG = '<Sgntr>';
const SGNTR_EMPTY = '<Sgntr></Sgntr>';

export async function createXmlSigner(opts: XmlSignerOptions): Promise<XmlSigner> {
  const cert = new X509Certificate(opts.certPem);
  // a key that does not match the certificate would sign everything unverifiably: refuse to start
  const keyPub = createPublicKey(opts.keyPem).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(keyPub).equals(Buffer.from(cert.publicKey.export({ type: 'spki', format: 'der' })))) {
    throw new Error('the signing key does not match the certificate');
  }
  const rsa = await createDigestSigner(opts);
  const dictTemplate = dictSignedInfo();
  const dictKeyInfo = keyInfoXml('', opts.certPem, null);
  const spiKeyInfo = keyInfoXml('ds', opts.certPem, SPI_KEYINFO_ID);
  const spiKeyInfoDigest = sha256b64(spiKeyInfo);
  const spiTemplates = new Map<string, SignedInfoTemplate>();
  const stats: XmlSignerStats = { fast: 0, general: 0 };

  function spiTemplate(appHdr: string, document: string): SignedInfoTemplate {
    const k = `${appHdr} ${document}`;
    let t = spiTemplates.get(k);
    if (!t) {
      if (spiTemplates.size >= SPI_TEMPLATE_CACHE_MAX) spiTemplates.clear();
      t = spiSignedInfo({ keyInfo: SPI_KEYINFO_ID, appHdr, document });
      spiTemplates.set(k, t);
    }
    return t;
  }

  /** Signs SignedInfo and hands the SignatureValue (base64) to `finish`, which returns the signed document. */
  function signed(signedInfo: string, finish: (signatureValueB64: string) => string): Promise<Result<string>> {
    return new Promise((resolve, reject) => {
      const refused = rsa.submit(sha256(signedInfo), (sig, err) => {
        if (!sig) return reject(err);
        try {
          resolve(ok(finish(base64(sig))));
        } catch (e) {
          reject(e);
        }
      });
      if (refused) reject(refused);
    });
  }

  function signDict(xml: string): Promise<Result<string>> {
    const size = checkXmlSize(xml);
    if (!size.ok) return Promise.resolve(size);
    const prepared = xml.replace(DICT_PLACEHOLDER_RE, '$1');
    const scan = scanCanonical(prepared);
    const root = scan?.elements[0];
    if (scan && root && !scan.elements.some((e) => e.depth === 1 && e.name === 'Signature')) {
      stats.fast++;
      const signedInfo = fillSignedInfo(dictTemplate, [sha256b64(prepared.slice(root.start, root.end))]);
      return signed(signedInfo, (sv) => prepared.slice(0, root.contentEnd) + signatureXml('', signedInfo, sv, dictKeyInfo) + prepared.slice(root.contentEnd));
    }
    const bounds = checkXmlBounds(xml);
    if (!bounds.ok) return Promise.resolve(bounds);
    stats.general++;
    const dom = dictDom(xml);
    if (!dom.ok) return Promise.resolve(dom);
    const { canonical, finish } = dom.value;
    const signedInfo = fillSignedInfo(dictTemplate, [sha256b64(canonical)]);
    return signed(signedInfo, (sv) => finish(signatureXml('', signedInfo, sv, dictKeyInfo)));
  }

  function signSpi(xml: string): Promise<Result<string>> {
    const size = checkXmlSize(xml);
    if (!size.ok) return Promise.resolve(size);
    const reusesKeyInfoId = xml.includes(`"${SPI_KEYINFO_ID}"`);
    const fast = reusesKeyInfoId ? null : prepareSpiFast(xml);
    if (fast) {
      stats.fast++;
      const { prepared, appHdr, document, signatureAt: at, appHdrId, documentId } = fast;
      const digests = [spiKeyInfoDigest, sha256b64(canonicalSubtree(prepared, appHdr)), sha256b64(canonicalSubtree(prepared, document))];
      const signedInfo = fillSignedInfo(spiTemplate(appHdrId, documentId), digests);
      return signed(signedInfo, (sv) => prepared.slice(0, at) + signatureXml('ds', signedInfo, sv, spiKeyInfo) + prepared.slice(at));
    }
    const bounds = checkXmlBounds(xml);
    if (!bounds.ok) return Promise.resolve(bounds);
    if (reusesKeyInfoId) return Promise.resolve(fail('InvalidRequest', `the document already uses the Id ${SPI_KEYINFO_ID}`, 'Id', 'unique-id'));
    stats.general++;
    const dom = spiDom(xml, { appHdr: SPI_APPHDR_ID, document: SPI_DOCUMENT_ID });
    if (!dom.ok) return Promise.resolve(dom);
    const v = dom.value;
    const signedInfo = fillSignedInfo(spiTemplate(v.appHdrId, v.documentId), [spiKeyInfoDigest, sha256b64(v.appHdrCanonical), sha256b64(v.documentCanonical)]);
    return signed(signedInfo, (sv) => v.finish(signatureXml('ds', signedInfo, sv, spiKeyInfo)));
  }

  return {
    signDict: (xml) => rejectThrown(signDict, xml),
    signSpi: (xml) => rejectThrown(signSpi, xml),
    sign: (xml) => rejectThrown(rootName(xml) === 'Envelope' ? signSpi : signDict, xml),
    stats,
    close: () => rsa.close(),
  };
}

/** A bug thrown while preparing a document rejects the promise, as it did when these were async functions. */
function rejectThrown(f: (xml: string) => Promise<Result<string>>, xml: string): Promise<Result<string>> {
  try {
    return f(xml);
  } catch (e) {
    return Promise.reject(e);
  }
}

export function rootName(xml: string): string | null {
  return ROOT_NAME_RE.exec(xml)?.[1] ?? null;
}

interface SpiFast {
  prepared: string;
  appHdr: ElementSpan;
  document: ElementSpan;
  /** inside the empty Sgntr, where ds:Signature goes */
  signatureAt: number;
  appHdrId: string;
  documentId: string;
}

/** Attributes of a start tag that scanCanonical accepted (so a sequential match is exact). */
function startTagAttrs(xml: string, el: ElementSpan): { name: string; value: string; at: number }[] {
  const out: { name: string; value: string; at: number }[] = [];
  ATTR_RE.lastIndex = el.start + 1 + el.name.length;
  for (let m = ATTR_RE.exec(xml); m; m = ATTR_RE.exec(xml)) out.push({ name: m[1]!, value: m[2]!, at: m.index });
  return out;
}

/** Where ` Id="…"` goes in canonical attribute order, and the Id already there if any. */
function idEdit(xml: string, el: ElementSpan): { id: string | null; insertAt: number } {
  const attrs = startTagAttrs(xml, el);
  const existing = attrs.find((a) => a.name === 'Id');
  const after = attrs.find((a) => a.name !== 'xmlns' && a.name > 'Id');
  return { id: existing ? existing.value : null, insertAt: after ? after.at : el.startTagEnd - 1 };
}

function envelopeParts(scan: CanonicalScan) {
  const children = scan.elements.filter((e) => e.depth === 1);
  const [appHdr, document] = children;
  if (scan.elements[0]?.name !== 'Envelope' || children.length !== 2 || appHdr?.name !== 'AppHdr' || document?.name !== 'Document') return null;
  const appHdrIndex = scan.elements.indexOf(appHdr);
  const sgntrs = scan.elements.filter((e) => e.parent === appHdrIndex && e.name === 'Sgntr');
  return { appHdr, document, sgntrs };
}

/**
 * The canonical unsigned form (AppHdr and Document carrying Ids, an empty Sgntr) when the input is
 * canonical up to those edits; null sends the document down the DOM path.
 *
 * One scan: the edits are insertions of canonical text at canonical places (an Id attribute at its sorted
 * position, `<Sgntr></Sgntr>` as AppHdr's last child), so the edited document is canonical too and its
 * spans are the scanned ones shifted by the lengths inserted before them.
 */
function prepareSpiFast(xml: string): SpiFast | null {
  const input = xml.replace(SGNTR_PLACEHOLDER_RE, SGNTR_EMPTY);
  const scan = scanCanonical(input);
  if (!scan) return null;
  const parts = envelopeParts(scan);
  if (!parts || parts.sgntrs.length > 1) return null;
  const [sgntr] = parts.sgntrs;
  if (sgntr && sgntr.contentEnd !== sgntr.startTagEnd) return null; // already signed or not empty
  const { appHdr, document } = parts;
  const ah = idEdit(input, appHdr);
  const doc = idEdit(input, document);
  const appHdrId = ah.id ?? SPI_APPHDR_ID;
  const documentId = doc.id ?? SPI_DOCUMENT_ID;
  // IDs must be NCNames, distinct, and name exactly one element (signature wrapping defence)
  if (appHdrId === documentId || !NCNAME_RE.test(appHdrId) || !NCNAME_RE.test(documentId)) return null;

  const ahText = ah.id === null ? ` Id="${SPI_APPHDR_ID}"` : '';
  const sgText = sgntr ? '' : SGNTR_EMPTY;
  const docText = doc.id === null ? ` Id="${SPI_DOCUMENT_ID}"` : '';
  const prepared =
    input.slice(0, ah.insertAt) + ahText + input.slice(ah.insertAt, appHdr.contentEnd) + sgText +
    input.slice(appHdr.contentEnd, doc.insertAt) + docText + input.slice(doc.insertAt);
  if (occurrences(prepared, `="${appHdrId}"`) !== 1 || occurrences(prepared, `="${documentId}"`) !== 1) return null;

  // AppHdr's Id lands inside its start tag, the Sgntr before its end tag, Document's Id inside its start tag
  const a = ahText.length;
  const g = sgText.length;
  const d = docText.length;
  const finalAppHdr = { ...appHdr, startTagEnd: appHdr.startTagEnd + a, contentEnd: appHdr.contentEnd + a + g, end: appHdr.end + a + g };
  const finalDocument = { ...document, start: document.start + a + g, startTagEnd: document.startTagEnd + a + g + d, contentEnd: document.contentEnd + a + g + d, end: document.end + a + g + d };
  const signatureAt = sgntr ? sgntr.startTagEnd + a : appHdr.contentEnd + a + SGNTR_START_TAG.length;
  return { prepared, appHdr: finalAppHdr, document: finalDocument, signatureAt, appHdrId, documentId };
}

function occurrences(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}
