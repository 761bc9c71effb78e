// The fast SPI verification path (shared/xml/verify-fast.ts) agrees with the general verifier: it accepts
// exactly what the general verifier accepts, refuses every tampering the general verifier refuses, and hands
// signatures outside the profile's canonical form (xmlsec1's, for one) to the general verifier.
import { beforeAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { ALG_C14N_EXC, ALG_ENVELOPED, ALG_RSA_SHA256, ALG_SHA256, DSIG_NS } from '../../shared/xml/profile.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { rfc4514Issuer } from '../../shared/xml/templates.ts';
import { verifyDictSignatureFast, verifySpiSignatureFast, verifyXmlSignatureFast } from '../../shared/xml/verify-fast.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { dictCreateEntry, pacs008 } from './fixtures.ts';
import { testPki, xmlsecSign } from './helpers.ts';

/** Byte positions tampered with per document: spread evenly, so every region (header, body, signature) is hit. */
const TAMPER_SAMPLES = 160;

let spi = '';
let dict = '';
beforeAll(async () => {
  const { keyPem, certPem } = testPki();
  const s = await createXmlSigner({ keyPem, certPem, threads: 0 });
  const a = await s.signSpi(pacs008(42));
  const b = await s.signDict(dictCreateEntry());
  await s.close();
  if (!a.ok || !b.ok) throw new Error('signing failed');
  spi = a.value;
  dict = b.value;
});

/** A different character of the same class, so the tampered document stays as well-formed as possible. */
function flip(c: string): string {
  if (/[0-9]/.test(c)) return c === '9' ? '0' : String(Number(c) + 1);
  if (/[A-Za-z]/.test(c)) return c === 'A' ? 'B' : c === 'a' ? 'b' : 'A';
  if (c === ' ') return '\t';
  return c === '"' ? "'" : ' ';
}

describe('the fast path accepts what the general verifier accepts', () => {
  test('a message signed by our signer verifies on the fast path, naming the signer like the general verifier', () => {
    const { caPem, certPem } = testPki();
    const fast = verifySpiSignatureFast(spi, { trustedCaPem: caPem });
    const general = verifyXmlSignature(spi, { trustedCaPem: caPem });
    expect(fast?.ok).toBe(true);
    expect(general.ok).toBe(true);
    if (!fast?.ok || !general.ok) return;
    expect({ form: fast.value.form, ispb: fast.value.ispb, subject: fast.value.subject }).toEqual({ form: general.value.form, ispb: general.value.ispb, subject: general.value.subject });
    expect(verifySpiSignatureFast(spi, { trustedCaPem: caPem, certs: [certPem] })?.ok).toBe(true);
  });

  test('a pinned certificate that is not the signer\'s is refused, as the general verifier refuses it', () => {
    const { caPem, rogue } = testPki();
    const opts = { trustedCaPem: caPem, certs: [rogue.certPem] };
    expect(verifySpiSignatureFast(spi, opts)).toMatchObject({ ok: false, error: { reason: 'the signing certificate is not one of the expected certificates' } });
    expect(verifyXmlSignature(spi, opts).ok).toBe(false);
  });

  test('a certificate outside its validity is refused on both paths', () => {
    const { caPem } = testPki();
    const opts = { trustedCaPem: caPem, now: new Date('2040-01-01T00:00:00Z') };
    expect(verifySpiSignatureFast(spi, opts)?.ok).toBe(false);
    expect(verifyXmlSignature(spi, opts).ok).toBe(false);
  });

  test('a signer from an untrusted CA is refused on both paths, and accepted on both when pinned', async () => {
    const { caPem, rogue } = testPki();
    const s = await createXmlSigner({ keyPem: rogue.keyPem, certPem: rogue.certPem, threads: 0 });
    const signed = await s.signSpi(pacs008(43));
    await s.close();
    if (!signed.ok) throw new Error(signed.error.detail);
    expect(verifySpiSignatureFast(signed.value, { trustedCaPem: caPem })).toMatchObject({ ok: false, error: { reason: 'the signing certificate does not chain to a trusted CA' } });
    expect(verifyXmlSignature(signed.value, { trustedCaPem: caPem }).ok).toBe(false);
    const pinned = { certs: [rogue.certPem] };
    expect(verifySpiSignatureFast(signed.value, pinned)).toMatchObject({ ok: true, value: { ispb: '66666666' } });
    expect(verifyXmlSignature(signed.value, pinned)).toMatchObject({ ok: true, value: { ispb: '66666666' } });
  });
});

/**
 * Flips one byte at TAMPER_SAMPLES positions of `doc`: a change the general verifier tolerates (insignificant
 * bytes outside the signed parts) is no reason for the fast path to refuse more, but it must never accept
 * what the general one refuses. Flips inside SignatureValue keep the canonical form, so the fast path judges
 * (and refuses) some of them itself.
 */
function expectSameVerdictsWhenTampered(doc: string, fastPath: (xml: string, opts: { trustedCaPem: string }) => { ok: boolean } | null): void {
  const { caPem } = testPki();
  const step = Math.max(1, Math.floor(doc.length / TAMPER_SAMPLES));
  let judgedFast = 0;
  for (let i = 0; i < doc.length; i += step) {
    const tampered = doc.slice(0, i) + flip(doc[i]!) + doc.slice(i + 1);
    const fast = fastPath(tampered, { trustedCaPem: caPem });
    const combined = verifyXmlSignatureFast(tampered, { trustedCaPem: caPem });
    const general = verifyXmlSignature(tampered, { trustedCaPem: caPem });
    if (fast) judgedFast++;
    if (!general.ok) expect({ at: i, fast: fast?.ok ?? null, combined: combined.ok }).toEqual({ at: i, fast: fast === null ? null : false, combined: false });
    else expect({ at: i, combined: combined.ok }).toEqual({ at: i, combined: true });
  }
  expect(judgedFast).toBeGreaterThan(0);
}

describe('tampering: the fast path never accepts what the general verifier refuses', () => {
  test(`a changed byte at ${TAMPER_SAMPLES} positions across the message gives the same verdict on both`, () => {
    expectSameVerdictsWhenTampered(spi, verifySpiSignatureFast);
  });

  test('every byte of the SignatureValue changed in turn is refused by the fast path itself', () => {
    const { caPem } = testPki();
    const start = spi.indexOf('<ds:SignatureValue>') + '<ds:SignatureValue>'.length;
    const end = spi.indexOf('</ds:SignatureValue>');
    for (let i = start; i < end - 2; i += 7) {
      const tampered = spi.slice(0, i) + (spi[i] === 'A' ? 'B' : 'A') + spi.slice(i + 1);
      expect(verifySpiSignatureFast(tampered, { trustedCaPem: caPem })?.ok).toBe(false);
    }
  });

  test('a changed amount or a second copy of the signed Document (wrapping) is refused', () => {
    const { caPem } = testPki();
    const amount = spi.replace(/<IntrBkSttlmAmt Ccy="BRL">[^<]*</, '<IntrBkSttlmAmt Ccy="BRL">999999.99<');
    const original = spi.slice(spi.indexOf('<Document'), spi.indexOf('</Document>') + '</Document>'.length);
    const wrapped = spi.replace(original, original.replace(/<IntrBkSttlmAmt Ccy="BRL">[^<]*</, '<IntrBkSttlmAmt Ccy="BRL">999999.99<')).replace('</Sgntr>', `</Sgntr><Rltd>${original}</Rltd>`);
    for (const attack of [amount, wrapped]) {
      expect(verifyXmlSignatureFast(attack, { trustedCaPem: caPem }).ok).toBe(false);
      expect(verifyXmlSignature(attack, { trustedCaPem: caPem }).ok).toBe(false);
    }
  });
});

describe('signatures outside the profile\'s canonical form go to the general verifier', () => {
  test('an SPI message signed by xmlsec1 is not judged by the fast path and verifies through the general one', () => {
    const { pki, certPem, caPem } = testPki();
    const cert = new X509Certificate(certPem);
    const ref = (uri: string, transforms: string[]) =>
      `<Reference URI="${uri}"><Transforms>${transforms.map((t) => `<Transform Algorithm="${t}"/>`).join('')}</Transforms><DigestMethod Algorithm="${ALG_SHA256}"/><DigestValue/></Reference>`;
    const template =
      `<Signature xmlns="${DSIG_NS}"><SignedInfo><CanonicalizationMethod Algorithm="${ALG_C14N_EXC}"/><SignatureMethod Algorithm="${ALG_RSA_SHA256}"/>` +
      `${ref('#ki', [ALG_C14N_EXC])}${ref('#hdr', [ALG_ENVELOPED, ALG_C14N_EXC])}${ref('#doc', [ALG_C14N_EXC])}</SignedInfo>` +
      `<SignatureValue/><KeyInfo Id="ki"><X509Data><X509IssuerSerial><X509IssuerName>${rfc4514Issuer(cert)}</X509IssuerName>` +
      `<X509SerialNumber>${BigInt(`0x${cert.serialNumber}`)}</X509SerialNumber></X509IssuerSerial><X509Certificate/></X509Data></KeyInfo></Signature>`;
    const doc = pacs008(5).replace('<AppHdr>', '<AppHdr Id="hdr">').replace('<Sgntr></Sgntr>', `<Sgntr>${template}</Sgntr>`).replace(/<Document xmlns="([^"]*)">/, '<Document xmlns="$1" Id="doc">');
    const signed = xmlsecSign(doc, pki.participant.key, pki.participant.cert, ['--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document']);
    expect(verifySpiSignatureFast(signed, { trustedCaPem: caPem })).toBeNull();
    expect(verifyXmlSignatureFast(signed, { trustedCaPem: caPem })).toMatchObject({ ok: true, value: { form: 'spi', ispb: '12345678' } });
  });

  test('a re-indented SPI or DICT document is judged by the general verifier, with its verdict', () => {
    const { caPem } = testPki();
    expect(verifySpiSignatureFast(dict, { trustedCaPem: caPem })).toBeNull();
    const indented = dict.replace('<Entry>', '\n  <Entry>');
    expect(verifyDictSignatureFast(indented, { trustedCaPem: caPem })).toBeNull();
    expect(verifyXmlSignatureFast(indented, { trustedCaPem: caPem })).toEqual(verifyXmlSignature(indented, { trustedCaPem: caPem }));
    const spaced = spi.replace('<Envelope xmlns=', '<Envelope  xmlns=');
    expect(verifySpiSignatureFast(spaced, { trustedCaPem: caPem })).toBeNull();
    expect(verifyXmlSignatureFast(spaced, { trustedCaPem: caPem }).ok).toBe(true);
  });

  test('without a trust anchor the fast path does not judge, and the general verifier explains the refusal', () => {
    expect(verifySpiSignatureFast(spi, {})).toBeNull();
    expect(verifyXmlSignatureFast(spi, {})).toMatchObject({ ok: false, error: { reason: expect.stringContaining('no trust anchor') } });
  });
});

describe('DICT documents: the fast path agrees with the general verifier', () => {
  test('a DICT document signed by our signer verifies on the DICT fast path, naming the signer like the general verifier', () => {
    const { caPem, certPem, rogue } = testPki();
    const fast = verifyDictSignatureFast(dict, { trustedCaPem: caPem, certs: [certPem] });
    const general = verifyXmlSignature(dict, { trustedCaPem: caPem, certs: [certPem] });
    expect(fast?.ok).toBe(true);
    expect(general.ok).toBe(true);
    if (!fast?.ok || !general.ok) return;
    expect({ form: fast.value.form, ispb: fast.value.ispb, subject: fast.value.subject }).toEqual({ form: general.value.form, ispb: general.value.ispb, subject: general.value.subject });
    expect(verifyXmlSignatureFast(dict, { trustedCaPem: caPem })).toMatchObject({ ok: true, value: { checks: expect.arrayContaining([expect.stringContaining('canonical DICT document')]) } });
    // pinned to another certificate, expired, or without a trust anchor: as the general verifier says
    expect(verifyDictSignatureFast(dict, { trustedCaPem: caPem, certs: [rogue.certPem] })?.ok).toBe(false);
    expect(verifyDictSignatureFast(dict, { trustedCaPem: caPem, now: new Date('2040-01-01T00:00:00Z') })?.ok).toBe(false);
    expect(verifyDictSignatureFast(dict, {})).toBeNull();
  });

  test(`a changed byte at ${TAMPER_SAMPLES} positions across the document gives the same verdict on both`, () => {
    expectSameVerdictsWhenTampered(dict, verifyDictSignatureFast);
  });

  test('every byte of the SignatureValue changed in turn, a changed key, a moved or second Signature: refused or left to the general verifier', () => {
    const { caPem } = testPki();
    const start = dict.indexOf('<SignatureValue>') + '<SignatureValue>'.length;
    const end = dict.indexOf('</SignatureValue>');
    for (let i = start; i < end - 2; i += 7) {
      const tampered = dict.slice(0, i) + (dict[i] === 'A' ? 'B' : 'A') + dict.slice(i + 1);
      expect(verifyDictSignatureFast(tampered, { trustedCaPem: caPem })?.ok).toBe(false);
    }
    const signature = dict.slice(dict.indexOf(`<Signature xmlns="${DSIG_NS}">`), dict.indexOf('</Signature>') + '</Signature>'.length);
    const key = dict.replace('+5511987654321', '+5511987654322');
    const moved = dict.replace(signature, '').replace('<Entry>', `${signature}<Entry>`);
    const twice = dict.replace('</Entry>', `${signature}</Entry>`);
    for (const attack of [key, moved, twice]) {
      expect(verifyDictSignatureFast(attack, { trustedCaPem: caPem })?.ok ?? false).toBe(false);
      expect(verifyXmlSignatureFast(attack, { trustedCaPem: caPem }).ok).toBe(verifyXmlSignature(attack, { trustedCaPem: caPem }).ok);
    }
    expect(verifyXmlSignatureFast(key, { trustedCaPem: caPem }).ok).toBe(false);
  });
});
