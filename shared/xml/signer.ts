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
// worker pool (sign-pool.ts).
import { CryptoHasher } from 'bun';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { fail, ok, type Result } from '../result.ts';
import { createDigestSigner, type DigestSignerOptions } from './sign-pool.ts';
import { checkXmlBounds } from './parse.ts';
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

/** An empty placeholder ending the root: `<Signature/>`, `<ds:Signature xmlns:ds="…"></ds:Signature>`… */
const DICT_PLACEHOLDER_RE = /<(?:[A-Za-z_][\w.-]*:)?Signature(?:\s+xmlns(?::[\w.-]+)?\s*=\s*"[^"]*")*\s*(?:\/>|>\s*<\/(?:[A-Za-z_][\w.-]*:)?Signature\s*>)(\s*<\/[^<>]+>\s*)$/;
const SGNTR_PLACEHOLDER_RE = /<Sgntr\s*\/>/;
const ROOT_NAME_RE = /^(?:\s|<\?[^]*?\?>|<!--[^]*?-->)*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/;
const ATTR_RE = / ([A-Za-z_][\w.-]*)="([^"]*)"/y;

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

  async function signatureValue(signedInfo: string): Promise<string> {
    return Buffer.from(await rsa.sign(sha256(signedInfo))).toString('base64');
  }

  async function signDict(xml: string): Promise<Result<string>> {
    const bounds = checkXmlBounds(xml);
    if (!bounds.ok) return bounds;
    const prepared = xml.replace(DICT_PLACEHOLDER_RE, '$1');
    const scan = scanCanonical(prepared);
    const root = scan?.elements[0];
    if (scan && root && !scan.elements.some((e) => e.depth === 1 && e.name === 'Signature')) {
      stats.fast++;
      const signedInfo = fillSignedInfo(dictTemplate, [sha256b64(prepared.slice(root.start, root.end))]);
      const sig = signatureXml('', signedInfo, await signatureValue(signedInfo), dictKeyInfo);
      return ok(prepared.slice(0, root.contentEnd) + sig + prepared.slice(root.contentEnd));
    }
    stats.general++;
    const dom = dictDom(xml);
    if (!dom.ok) return dom;
    const signedInfo = fillSignedInfo(dictTemplate, [sha256b64(dom.value.canonical)]);
    return ok(dom.value.finish(signatureXml('', signedInfo, await signatureValue(signedInfo), dictKeyInfo)));
  }

  async function signSpi(xml: string): Promise<Result<string>> {
    const bounds = checkXmlBounds(xml);
    if (!bounds.ok) return bounds;
    if (xml.includes(`"${SPI_KEYINFO_ID}"`)) return fail('InvalidRequest', `the document already uses the Id ${SPI_KEYINFO_ID}`, 'Id', 'unique-id');
    const fast = prepareSpiFast(xml);
    let digests: { appHdrId: string; documentId: string; appHdr: string; document: string };
    let finish: (signature: string) => string;
    if (fast) {
      stats.fast++;
      const { prepared, appHdr, document, sgntr, appHdrId, documentId } = fast;
      digests = { appHdrId, documentId, appHdr: sha256b64(canonicalSubtree(prepared, appHdr)), document: sha256b64(canonicalSubtree(prepared, document)) };
      finish = (s) => prepared.slice(0, sgntr.startTagEnd) + s + prepared.slice(sgntr.startTagEnd);
    } else {
      stats.general++;
      const dom = spiDom(xml, { appHdr: SPI_APPHDR_ID, document: SPI_DOCUMENT_ID });
      if (!dom.ok) return dom;
      const v = dom.value;
      digests = { appHdrId: v.appHdrId, documentId: v.documentId, appHdr: sha256b64(v.appHdrCanonical), document: sha256b64(v.documentCanonical) };
      finish = v.finish;
    }
    const signedInfo = fillSignedInfo(spiTemplate(digests.appHdrId, digests.documentId), [spiKeyInfoDigest, digests.appHdr, digests.document]);
    return ok(finish(signatureXml('ds', signedInfo, await signatureValue(signedInfo), spiKeyInfo)));
  }

  return {
    signDict,
    signSpi,
    sign: (xml) => (rootName(xml) === 'Envelope' ? signSpi(xml) : signDict(xml)),
    stats,
    close: () => rsa.close(),
  };
}

export function rootName(xml: string): string | null {
  return ROOT_NAME_RE.exec(xml)?.[1] ?? null;
}

interface SpiFast {
  prepared: string;
  appHdr: ElementSpan;
  document: ElementSpan;
  sgntr: ElementSpan;
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
 */
function prepareSpiFast(xml: string): SpiFast | null {
  let prepared = xml.replace(SGNTR_PLACEHOLDER_RE, '<Sgntr></Sgntr>');
  const first = scanCanonical(prepared);
  if (!first) return null;
  const parts = envelopeParts(first);
  if (!parts || parts.sgntrs.length > 1) return null;
  const [sgntr] = parts.sgntrs;
  if (sgntr && sgntr.contentEnd !== sgntr.startTagEnd) return null; // already signed or not empty
  const ah = idEdit(prepared, parts.appHdr);
  const doc = idEdit(prepared, parts.document);
  // edits from the end of the document backwards keep the earlier offsets valid
  if (doc.id === null) prepared = `${prepared.slice(0, doc.insertAt)} Id="${SPI_DOCUMENT_ID}"${prepared.slice(doc.insertAt)}`;
  if (!sgntr) prepared = `${prepared.slice(0, parts.appHdr.contentEnd)}<Sgntr></Sgntr>${prepared.slice(parts.appHdr.contentEnd)}`;
  if (ah.id === null) prepared = `${prepared.slice(0, ah.insertAt)} Id="${SPI_APPHDR_ID}"${prepared.slice(ah.insertAt)}`;
  const appHdrId = ah.id ?? SPI_APPHDR_ID;
  const documentId = doc.id ?? SPI_DOCUMENT_ID;
  // IDs must be NCNames, distinct, and name exactly one element (signature wrapping defence)
  if (appHdrId === documentId || !/^[A-Za-z_][\w.-]*$/.test(appHdrId) || !/^[A-Za-z_][\w.-]*$/.test(documentId)) return null;
  if (occurrences(prepared, `="${appHdrId}"`) !== 1 || occurrences(prepared, `="${documentId}"`) !== 1) return null;
  const scan = scanCanonical(prepared);
  const final = scan && envelopeParts(scan);
  if (!final || final.sgntrs.length !== 1) return null;
  return { prepared, appHdr: final.appHdr, document: final.document, sgntr: final.sgntrs[0]!, appHdrId, documentId };
}

function occurrences(s: string, needle: string): number {
  let n = 0;
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length)) n++;
  return n;
}
