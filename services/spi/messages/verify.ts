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
// The fast path itself lives in shared/xml/verify-fast.ts (the sandbox uses it too).
import { verifySpiSignatureFast } from '../../../shared/xml/verify-fast.ts';
import { verifyXmlSignature } from '../../../shared/xml/verify.ts';

export type Verified = { ok: true; ispb: string | null; fast: boolean } | { ok: false; reason: string };

export function createSpiVerifier(trustedCaPem: string, now: () => Date = () => new Date()) {
  const stats = { fast: 0, general: 0 };

  /** null: not in the profile's canonical form (use the general verifier); otherwise the verdict */
  function fast(xml: string): Verified | null {
    const r = verifySpiSignatureFast(xml, { trustedCaPem, now: now() });
    if (!r) return null;
    return r.ok ? { ok: true, ispb: r.value.ispb, fast: true } : { ok: false, reason: r.error.reason };
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
