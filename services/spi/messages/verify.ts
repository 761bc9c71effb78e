// Signature check of SPI messages on the inbox hot path. The general verifier (shared/xml/verify.ts,
// xml-crypto over a DOM) costs ~14 ms per pacs.008/pacs.002 on this machine, which alone would cap the
// service near 70 messages/s. Messages produced by BACEN's profile in canonical form (ours, the sandbox's,
// and any signer writing exc-c14n output with the profile's templates) are checked here in one pass:
//   1. cut the ds:Signature out of AppHdr/Sgntr; the rest must be exclusive-canonical (scanCanonical),
//      Envelope holding exactly AppHdr then Document, the Signature sitting in AppHdr/Sgntr;
//   2. rebuild, from the profile's templates, the exact Signature the signer must have written: SignedInfo
//      with the digests of KeyInfo (rebuilt from the embedded certificate), AppHdr (Sgntr emptied:
//      enveloped transform) and Document, each taken alone in exc-c14n; it must equal the received bytes;
//   3. RSA-SHA256 over that SignedInfo with the certificate's key; the certificate chains to the trusted
//      CA and is valid now (chain result cached per certificate).
// Anything not byte-identical to the profile's form goes to the general verifier, so this can only be
// faster, never more lenient: every accepted message is one the general verifier accepts too.
import { CryptoHasher } from 'bun';
import { verify as rsaVerify, X509Certificate } from 'node:crypto';
import { ispbFromSubject } from '../../../shared/pki.ts';
import { scanCanonical, canonicalSubtree, type ElementSpan } from '../../../shared/xml/c14n-fast.ts';
import { DSIG_NS, SPI_KEYINFO_ID } from '../../../shared/xml/profile.ts';
import { fillSignedInfo, keyInfoXml, signatureXml, spiSignedInfo, type SignedInfoTemplate } from '../../../shared/xml/templates.ts';
import { verifyXmlSignature } from '../../../shared/xml/verify.ts';

/** Certificates whose chain check and KeyInfo are cached (signers are few: SPI and the PSPs). */
export const VERIFY_CERT_CACHE_MAX = 1_024;

export type Verified = { ok: true; ispb: string | null; fast: boolean } | { ok: false; reason: string };

const SIG_OPEN = `<Sgntr><ds:Signature xmlns:ds="${DSIG_NS}">`;
const SIG_CLOSE = '</ds:Signature></Sgntr>';
const CERT_RE = /<ds:X509Certificate>([A-Za-z0-9+/=]{100,8000})<\/ds:X509Certificate>/;
const SIG_VALUE_RE = /<ds:SignatureValue>([A-Za-z0-9+/=]{300,700})<\/ds:SignatureValue>/;
const ID_RE = / Id="([A-Za-z_][\w.-]*)"/;
const sha256b64 = (s: string) => new CryptoHasher('sha256').update(s).digest('base64');

interface CertEntry {
  cert: X509Certificate;
  keyInfo: string;
  keyInfoDigest: string;
  chainsToCa: boolean;
  ispb: string | null;
}

export function createSpiVerifier(trustedCaPem: string, now: () => Date = () => new Date()) {
  const ca = new X509Certificate(trustedCaPem);
  const certs = new Map<string, CertEntry>();
  const templates = new Map<string, SignedInfoTemplate>();
  const stats = { fast: 0, general: 0 };

  function certEntry(derB64: string): CertEntry | null {
    let e = certs.get(derB64);
    if (!e) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(Buffer.from(derB64, 'base64'));
      } catch {
        return null;
      }
      const keyInfo = keyInfoXml('ds', cert.toString(), SPI_KEYINFO_ID);
      e = { cert, keyInfo, keyInfoDigest: sha256b64(keyInfo), chainsToCa: cert.checkIssued(ca) && cert.verify(ca.publicKey), ispb: ispbFromSubject(cert.subject) };
      if (certs.size >= VERIFY_CERT_CACHE_MAX) certs.delete(certs.keys().next().value!);
      certs.set(derB64, e);
    }
    return e;
  }

  /** null: not in the profile's canonical form (use the general verifier); otherwise the verdict */
  function fast(xml: string): Verified | null {
    const open = xml.indexOf(SIG_OPEN);
    if (open < 0 || xml.indexOf(SIG_OPEN, open + 1) >= 0) return null;
    const sigStart = open + '<Sgntr>'.length;
    const close = xml.indexOf(SIG_CLOSE, sigStart);
    if (close < 0) return null;
    const sigEnd = close + '</ds:Signature>'.length;
    const signature = xml.slice(sigStart, sigEnd);
    const unsigned = xml.slice(0, sigStart) + xml.slice(sigEnd);
    const scan = scanCanonical(unsigned);
    if (!scan) return null;
    const root = scan.elements[0];
    const top = scan.elements.filter((e) => e.depth === 1);
    if (root?.name !== 'Envelope' || top.length !== 2 || top[0]!.name !== 'AppHdr' || top[1]!.name !== 'Document') return null;
    const [appHdr, document] = top as [ElementSpan, ElementSpan];
    const sgntr = scan.elements.filter((e) => e.depth === 2 && e.name === 'Sgntr');
    if (sgntr.length !== 1 || sgntr[0]!.parent !== scan.elements.indexOf(appHdr) || sgntr[0]!.startTagEnd !== sigStart || sgntr[0]!.contentEnd !== sigStart) return null;
    const appHdrId = ID_RE.exec(unsigned.slice(appHdr.start, appHdr.startTagEnd))?.[1];
    const documentId = ID_RE.exec(unsigned.slice(document.start, document.startTagEnd))?.[1];
    if (!appHdrId || !documentId || appHdrId === documentId) return null;
    const der = CERT_RE.exec(signature)?.[1];
    const sv = SIG_VALUE_RE.exec(signature)?.[1];
    if (!der || !sv) return null;
    const entry = certEntry(der);
    if (!entry) return null;
    const k = `${appHdrId} ${documentId}`;
    let t = templates.get(k);
    if (!t) {
      t = spiSignedInfo({ keyInfo: SPI_KEYINFO_ID, appHdr: appHdrId, document: documentId });
      if (templates.size >= 64) templates.clear();
      templates.set(k, t);
    }
    const signedInfo = fillSignedInfo(t, [entry.keyInfoDigest, sha256b64(canonicalSubtree(unsigned, appHdr)), sha256b64(canonicalSubtree(unsigned, document))]);
    // every byte of the Signature must be what the profile writes: otherwise let the general verifier judge
    if (signatureXml('ds', signedInfo, sv, entry.keyInfo) !== signature) return null;
    // Ids must name exactly one element each (no signature wrapping)
    if (unsigned.split(`="${appHdrId}"`).length !== 2 || unsigned.split(`="${documentId}"`).length !== 2) return null;
    if (!entry.chainsToCa) return { ok: false, reason: 'the signing certificate does not chain to a trusted CA' };
    const at = now();
    if (at < new Date(entry.cert.validFrom) || at > new Date(entry.cert.validTo)) return { ok: false, reason: 'the signing certificate is not valid now' };
    if (!rsaVerify('sha256', Buffer.from(signedInfo), entry.cert.publicKey, Buffer.from(sv, 'base64'))) {
      return { ok: false, reason: 'a digest or the SignatureValue does not verify (signed content was changed)' };
    }
    return { ok: true, ispb: entry.ispb, fast: true };
  }

  return {
    stats,
    verify(xml: string): Verified {
      const f = fast(xml);
      if (f) {
        stats.fast++;
        return f;
      }
      stats.general++;
      const r = verifyXmlSignature(xml, { trustedCaPem, now: now() });
      if (!r.ok) return { ok: false, reason: r.error.reason };
      if (r.value.form !== 'spi') return { ok: false, reason: 'not an SPI (Envelope) signature' };
      return { ok: true, ispb: r.value.ispb, fast: false };
    },
  };
}
export type SpiVerifier = ReturnType<typeof createSpiVerifier>;
