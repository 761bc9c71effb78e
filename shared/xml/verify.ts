// Verifies an XMLDSig signature in BACEN's profile (see signer.ts for the exact profile) with xml-crypto on
// an @xmldom/xmldom DOM, whoever produced it (our signer, xmlsec1, BACEN). The cryptography is xml-crypto's;
// this file adds what a generic library does not decide for us: the algorithms are exactly the profile's,
// the signature sits where BACEN puts it, each reference covers THE element the application will read
// (the root, or the Envelope's AppHdr and Document, by unique IDs: no signature wrapping), and the key is
// a certificate that chains to a trusted CA (or one the caller named) and matches X509IssuerSerial.
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { ispbFromSubject } from '../pki.ts';
import type { Result } from '../result.ts';
import { parseXmlDom } from './parse.ts';
import { ALG_C14N_EXC, ALG_ENVELOPED, ALG_RSA_SHA256, ALG_SHA256, DSIG_NS } from './profile.ts';
import { elementChildren, idCount } from './signer-dom.ts';

export interface VerifyOptions {
  /** PEM CA certificate(s) the signer's certificate must be issued by */
  trustedCaPem?: string | string[];
  /** PEM certificate(s) the signer must be one of (also resolves a KeyInfo carrying only X509IssuerSerial) */
  certs?: string[];
  /** validity is checked at this instant (tests); defaults to now */
  now?: Date;
}

export interface VerifiedSignature {
  form: 'dict' | 'spi';
  subject: string;
  ispb: string | null;
  /** human-readable checks that passed, in order */
  checks: string[];
}

export interface VerifyFailure {
  reason: string;
  /** checks that passed before the failing one */
  checks: string[];
}

class Refused extends Error {}

const one = (els: Element[], what: string): Element => {
  if (els.length !== 1) throw new Refused(`expected exactly one ${what}, found ${els.length}`);
  return els[0]!;
};
const dsChildren = (e: Element, local: string) => elementChildren(e).filter((c) => c.namespaceURI === DSIG_NS && c.localName === local);
const algorithm = (e: Element) => e.getAttribute('Algorithm') ?? '';

interface ExpectedRef {
  what: string;
  uri: string;
  transforms: string[];
}

export function verifyXmlSignature(xml: string, opts: VerifyOptions = {}): Result<VerifiedSignature, VerifyFailure> {
  const checks: string[] = [];
  const pass = (c: string) => checks.push(c);
  try {
    const parsed = parseXmlDom(xml);
    if (!parsed.ok) throw new Refused(parsed.error.detail);
    pass('document is well-formed, within size and depth bounds, without DOCTYPE/ENTITY');
    const doc = parsed.value;
    const root = doc.documentElement!; // parseXmlDom refuses documents without a root

    const sigs = doc.getElementsByTagNameNS(DSIG_NS, 'Signature');
    if (sigs.length !== 1) throw new Refused(`expected exactly one ds:Signature, found ${sigs.length}`);
    const sig = sigs[0]!;
    pass('exactly one ds:Signature');

    const form = root.localName === 'Envelope' ? 'spi' : 'dict';
    let expected: ExpectedRef[];
    const [signedInfo, signatureValue, keyInfo, ...extra] = elementChildren(sig);
    if (signedInfo?.localName !== 'SignedInfo' || signatureValue?.localName !== 'SignatureValue' || keyInfo?.localName !== 'KeyInfo' || extra.length > 0) {
      throw new Refused('Signature must hold exactly SignedInfo, SignatureValue, KeyInfo');
    }
    if (form === 'dict') {
      if (sig.parentNode !== root) throw new Refused('DICT: the Signature must be a child of the document root');
      pass('DICT: Signature is a child of the root');
      expected = [{ what: 'the whole document', uri: '', transforms: [ALG_ENVELOPED, ALG_C14N_EXC] }];
    } else {
      const children = elementChildren(root);
      const [appHdr, document] = children;
      if (children.length !== 2 || appHdr?.localName !== 'AppHdr' || document?.localName !== 'Document') {
        throw new Refused('SPI: the Envelope must hold exactly AppHdr then Document');
      }
      const sgntr = sig.parentNode as Element | null;
      if (sgntr?.localName !== 'Sgntr' || sgntr.parentNode !== appHdr) throw new Refused('SPI: the Signature must sit in Envelope/AppHdr/Sgntr');
      pass('SPI: Signature sits in Envelope/AppHdr/Sgntr');
      const ids = { keyInfo: keyInfo.getAttribute('Id'), appHdr: appHdr.getAttribute('Id'), document: document.getAttribute('Id') };
      for (const [what, id] of Object.entries(ids)) {
        if (!id) throw new Refused(`SPI: ${what} carries no Id attribute for its reference`);
        if (idCount(doc, id) !== 1) throw new Refused(`SPI: Id ${id} is carried by more than one element (signature wrapping)`);
      }
      pass('SPI: KeyInfo, AppHdr and Document carry unique Ids');
      expected = [
        { what: 'KeyInfo', uri: `#${ids.keyInfo}`, transforms: [ALG_C14N_EXC] },
        { what: 'AppHdr', uri: `#${ids.appHdr}`, transforms: [ALG_ENVELOPED, ALG_C14N_EXC] },
        { what: 'Document', uri: `#${ids.document}`, transforms: [ALG_C14N_EXC] },
      ];
    }

    checkSignedInfo(signedInfo, expected);
    pass(`SignedInfo: exc-c14n, rsa-sha256, ${expected.length} reference(s) (${expected.map((e) => e.what).join(', ')}) with sha256 digests and the profile's transforms`);

    const cert = signerCertificate(keyInfo, opts, pass);

    const sx = new SignedXml({ publicCert: cert.toString(), getCertFromKeyInfo: () => null });
    sx.loadSignature(sig as never);
    let valid = false;
    try {
      valid = sx.checkSignature(xml);
    } catch (e) {
      throw new Refused(`xml-crypto: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    if (!valid) throw new Refused('xml-crypto: a reference digest does not match (signed content was changed)');
    if (sx.getSignedReferences().length !== expected.length) throw new Refused('xml-crypto: not every reference was validated');
    pass('xml-crypto: every reference digest and the SignatureValue verify');
    return { ok: true, value: { form, subject: cert.subject.replace(/\n/g, ', '), ispb: ispbFromSubject(cert.subject), checks } };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, error: { reason: e.message, checks } };
    throw e;
  }
}

function checkSignedInfo(signedInfo: Element, expected: ExpectedRef[]): void {
  const [c14n, method, ...refs] = elementChildren(signedInfo);
  if (c14n?.localName !== 'CanonicalizationMethod' || algorithm(c14n) !== ALG_C14N_EXC || elementChildren(c14n).length > 0) {
    throw new Refused(`CanonicalizationMethod must be ${ALG_C14N_EXC}`);
  }
  if (method?.localName !== 'SignatureMethod' || algorithm(method) !== ALG_RSA_SHA256) throw new Refused(`SignatureMethod must be ${ALG_RSA_SHA256}`);
  if (refs.length !== expected.length) throw new Refused(`expected ${expected.length} Reference(s), found ${refs.length}`);
  const seen = new Set<string>();
  for (const ref of refs) {
    if (ref.localName !== 'Reference' || ref.namespaceURI !== DSIG_NS || !ref.hasAttribute('URI')) throw new Refused('every Reference must carry a URI');
    const uri = ref.getAttribute('URI')!;
    const exp = expected.find((e) => e.uri === uri);
    if (!exp || seen.has(uri)) throw new Refused(`Reference URI="${uri}" is not one the profile expects (${expected.map((e) => `"${e.uri}"`).join(', ')})`);
    seen.add(uri);
    const transforms = dsChildren(one(dsChildren(ref, 'Transforms'), `Transforms in Reference "${uri}"`), 'Transform');
    const algs = transforms.map(algorithm);
    if (algs.join(' ') !== exp.transforms.join(' ') || transforms.some((t) => elementChildren(t).length > 0)) {
      throw new Refused(`Reference to ${exp.what} must use exactly the transforms ${exp.transforms.join(', ')}`);
    }
    if (algorithm(one(dsChildren(ref, 'DigestMethod'), 'DigestMethod')) !== ALG_SHA256) throw new Refused(`DigestMethod must be ${ALG_SHA256}`);
  }
}

/** RFC 4514 name → sorted `TYPE=value` list, so `CN=a,O=b` and `O=b, CN=a` compare equal. */
function nameParts(name: string): string[] {
  return name
    .split(/(?<!\\),/)
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      return `${rdn.slice(0, eq).trim().toUpperCase()}=${rdn.slice(eq + 1).trim().replace(/\\(.)/g, '$1')}`;
    })
    .sort();
}
const sameName = (a: string, b: string) => nameParts(a).join('\n') === nameParts(b).join('\n');
const certIssuer = (c: X509Certificate) => c.issuer.split('\n').filter(Boolean).join(',');

function signerCertificate(keyInfo: Element, opts: VerifyOptions, pass: (c: string) => void): X509Certificate {
  const x509Data = one(dsChildren(keyInfo, 'X509Data'), 'X509Data in KeyInfo');
  const issuerSerial = one(dsChildren(x509Data, 'X509IssuerSerial'), 'X509IssuerSerial in X509Data');
  const issuerName = one(dsChildren(issuerSerial, 'X509IssuerName'), 'X509IssuerName').textContent ?? '';
  const serialText = (one(dsChildren(issuerSerial, 'X509SerialNumber'), 'X509SerialNumber').textContent ?? '').trim();
  if (!/^\d{1,100}$/.test(serialText)) throw new Refused('X509SerialNumber must be a decimal integer');
  const serial = BigInt(serialText);
  const matches = (c: X509Certificate) => BigInt(`0x${c.serialNumber}`) === serial && sameName(issuerName, certIssuer(c));

  const embedded = dsChildren(x509Data, 'X509Certificate');
  if (embedded.length > 1) throw new Refused('more than one X509Certificate in KeyInfo');
  const expected = (opts.certs ?? []).map((p) => new X509Certificate(p));
  let cert: X509Certificate;
  if (embedded.length === 1) {
    try {
      cert = new X509Certificate(Buffer.from((embedded[0]!.textContent ?? '').replace(/\s+/g, ''), 'base64'));
    } catch {
      throw new Refused('X509Certificate in KeyInfo is not a certificate');
    }
    if (expected.length > 0 && !expected.some((c) => c.raw.equals(cert.raw))) throw new Refused('the signing certificate is not one of the expected certificates');
  } else {
    const found = expected.find(matches);
    if (!found) throw new Refused('KeyInfo carries no X509Certificate and X509IssuerSerial names none of the expected certificates');
    cert = found;
  }
  if (!matches(cert)) throw new Refused('X509IssuerSerial does not name the signing certificate');
  pass(`KeyInfo: X509IssuerSerial names the signing certificate (serial ${serialText})`);

  const now = opts.now ?? new Date();
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) throw new Refused(`the signing certificate is not valid at ${now.toISOString()} (${cert.validFrom} – ${cert.validTo})`);
  const cas = opts.trustedCaPem === undefined ? [] : Array.isArray(opts.trustedCaPem) ? opts.trustedCaPem : [opts.trustedCaPem];
  if (cas.length > 0) {
    const issuer = cas.map((p) => new X509Certificate(p)).find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!issuer) throw new Refused('the signing certificate does not chain to a trusted CA');
    pass(`certificate: issued by trusted CA "${issuer.subject.replace(/\n/g, ', ')}", valid now`);
  } else if (expected.length > 0) {
    pass('certificate: one of the expected certificates, valid now');
  } else {
    throw new Refused('no trust anchor: pass a trusted CA or the expected certificates');
  }
  return cert;
}
