// The canonical bytes of SignedInfo and KeyInfo, built once per signer (and per SPI ID pair), so that a
// signature costs string concatenation + two SHA-256 + one RSA. These strings are written into the
// document exactly as they are hashed: they are already exc-c14n output (start/end pairs, the dsig
// namespace declared on the apex), so what any verifier re-canonicalises equals what we signed.
import { X509Certificate } from 'node:crypto';
import { escapeAttr, escapeText } from './build.ts';
import { ALG_C14N_EXC, ALG_ENVELOPED, ALG_RSA_SHA256, ALG_SHA256, DSIG_NS } from './profile.ts';

/** `ds` for SPI (as BACEN's SPI messages write it), '' (default namespace) for DICT (as its examples do). */
export type DsPrefix = 'ds' | '';

export interface SignedInfoTemplate {
  /** the canonical SignedInfo split around the DigestValue slots: parts.length = slots + 1 */
  parts: string[];
}

const q = (p: DsPrefix, local: string) => (p ? `${p}:${local}` : local);
const nsDecl = (p: DsPrefix) => (p ? ` xmlns:${p}="${DSIG_NS}"` : ` xmlns="${DSIG_NS}"`);

function reference(p: DsPrefix, uri: string, transforms: string[]): string[] {
  const t = transforms.map((a) => `<${q(p, 'Transform')} Algorithm="${a}"></${q(p, 'Transform')}>`).join('');
  return [
    `<${q(p, 'Reference')} URI="${escapeAttr(uri)}"><${q(p, 'Transforms')}>${t}</${q(p, 'Transforms')}>` +
      `<${q(p, 'DigestMethod')} Algorithm="${ALG_SHA256}"></${q(p, 'DigestMethod')}><${q(p, 'DigestValue')}>`,
    `</${q(p, 'DigestValue')}></${q(p, 'Reference')}>`,
  ];
}

function signedInfo(p: DsPrefix, refs: string[][]): SignedInfoTemplate {
  const head =
    `<${q(p, 'SignedInfo')}${nsDecl(p)}><${q(p, 'CanonicalizationMethod')} Algorithm="${ALG_C14N_EXC}"></${q(p, 'CanonicalizationMethod')}>` +
    `<${q(p, 'SignatureMethod')} Algorithm="${ALG_RSA_SHA256}"></${q(p, 'SignatureMethod')}>`;
  const parts: string[] = [head + refs[0]![0]!];
  for (let i = 0; i < refs.length; i++) {
    const next = i + 1 < refs.length ? refs[i + 1]![0]! : `</${q(p, 'SignedInfo')}>`;
    parts.push(refs[i]![1]! + next);
  }
  return { parts };
}

/** DICT: one reference, URI="" (the whole document), enveloped-signature then exc-c14n. */
export function dictSignedInfo(): SignedInfoTemplate {
  return signedInfo('', [reference('', '', [ALG_ENVELOPED, ALG_C14N_EXC])]);
}

/** SPI: KeyInfo, AppHdr (enveloped: it holds Sgntr), Document, each by its Id. */
export function spiSignedInfo(ids: { keyInfo: string; appHdr: string; document: string }): SignedInfoTemplate {
  return signedInfo('ds', [
    reference('ds', `#${ids.keyInfo}`, [ALG_C14N_EXC]),
    reference('ds', `#${ids.appHdr}`, [ALG_ENVELOPED, ALG_C14N_EXC]),
    reference('ds', `#${ids.document}`, [ALG_C14N_EXC]),
  ]);
}

export function fillSignedInfo(t: SignedInfoTemplate, digests: string[]): string {
  // a template filled with the wrong number of digests would sign a broken SignedInfo: a bug
  if (digests.length !== t.parts.length - 1) throw new Error('digest count does not match the SignedInfo template');
  let s = t.parts[0]!;
  for (let i = 0; i < digests.length; i++) s += digests[i]! + t.parts[i + 1]!;
  return s;
}

/** RFC 4514 issuer name (most specific RDN first), as X509IssuerName carries it. */
export function rfc4514Issuer(cert: X509Certificate): string {
  return cert.issuer
    .split('\n')
    .filter((l) => l.length > 0)
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      const value = rdn.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1');
      return `${rdn.slice(0, eq)}=${value}`;
    })
    .join(',');
}

/** The canonical KeyInfo: X509IssuerSerial (BACEN's identification of the certificate) and the certificate. */
export function keyInfoXml(p: DsPrefix, certPem: string, id: string | null): string {
  const cert = new X509Certificate(certPem);
  const der = cert.raw.toString('base64');
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10);
  const idAttr = id === null ? '' : ` Id="${escapeAttr(id)}"`;
  return (
    `<${q(p, 'KeyInfo')}${nsDecl(p)}${idAttr}><${q(p, 'X509Data')}><${q(p, 'X509IssuerSerial')}>` +
    `<${q(p, 'X509IssuerName')}>${escapeText(rfc4514Issuer(cert))}</${q(p, 'X509IssuerName')}>` +
    `<${q(p, 'X509SerialNumber')}>${serial}</${q(p, 'X509SerialNumber')}></${q(p, 'X509IssuerSerial')}>` +
    `<${q(p, 'X509Certificate')}>${der}</${q(p, 'X509Certificate')}></${q(p, 'X509Data')}></${q(p, 'KeyInfo')}>`
  );
}

export function signatureXml(p: DsPrefix, signedInfoXml: string, signatureValueB64: string, keyInfo: string): string {
  return `<${q(p, 'Signature')}${nsDecl(p)}>${signedInfoXml}<${q(p, 'SignatureValue')}>${signatureValueB64}</${q(p, 'SignatureValue')}>${keyInfo}</${q(p, 'Signature')}>`;
}
