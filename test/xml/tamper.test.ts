import { beforeAll, describe, expect, test } from 'bun:test';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { pacs008 } from './fixtures.ts';
import { testPki, xmlsecVerify } from './helpers.ts';

/** Positions sampled per signed part: enough to hit tags, attributes and text, few enough for xmlsec1 spawns. */
const SAMPLES_PER_PART = 10;

let signed = '';
beforeAll(async () => {
  const { keyPem, certPem } = testPki();
  const s = await createXmlSigner({ keyPem, certPem, threads: 0 });
  const r = await s.signSpi(pacs008(42));
  await s.close();
  if (!r.ok) throw new Error(r.error.detail);
  signed = r.value;
});

/** An alphanumeric byte changed to another one (digit+1, letter case swapped): always a different infoset. */
function mutate(xml: string, at: number): string {
  const c = xml[at]!;
  const n = /\d/.test(c) ? String((Number(c) + 1) % 10) : c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return xml.slice(0, at) + n + xml.slice(at + 1);
}

function rawXmlCrypto(xml: string): boolean {
  try {
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const sig = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0];
    if (!sig) return false;
    const sx = new SignedXml({ publicCert: testPki().certPem, getCertFromKeyInfo: () => null });
    sx.loadSignature(sig);
    return sx.checkSignature(xml);
  } catch {
    return false;
  }
}

function part(name: string): [number, number] {
  const spans: Record<string, [string, string]> = {
    Document: ['<Document', '</Document>'],
    AppHdr: ['<AppHdr', '<Sgntr>'],
    SignedInfo: ['<ds:SignedInfo', '</ds:SignedInfo>'],
    KeyInfo: ['<ds:KeyInfo', '</ds:KeyInfo>'],
    // the last base64 character before `==` carries unused bits; changing it may not change the value
    SignatureValue: ['<ds:SignatureValue>', '==</ds:SignatureValue>'],
  };
  const [a, b] = spans[name]!;
  const start = signed.indexOf(a);
  const end = signed.indexOf(b, start) - (name === 'SignatureValue' ? 1 : 0);
  return [start, end];
}

describe('changing one byte of a signed part fails verification', () => {
  test('the untouched message verifies with our verifier, xml-crypto and xmlsec1', () => {
    expect(verifyXmlSignature(signed, { trustedCaPem: testPki().caPem }).ok).toBe(true);
    expect(rawXmlCrypto(signed)).toBe(true);
    expect(xmlsecVerify(signed)).toBe(true);
  });

  for (const name of ['Document', 'AppHdr', 'SignedInfo', 'KeyInfo', 'SignatureValue']) {
    test(`any byte changed in ${name} fails our verifier, xml-crypto and xmlsec1`, () => {
      const [start, end] = part(name);
      const positions: number[] = [];
      for (let i = start; i < end; i++) if (/[A-Za-z0-9]/.test(signed[i]!)) positions.push(i);
      const step = Math.max(1, Math.floor(positions.length / SAMPLES_PER_PART));
      const sample = positions.filter((_, k) => k % step === 0).slice(0, SAMPLES_PER_PART);
      expect(sample.length).toBe(SAMPLES_PER_PART);
      for (const at of sample) {
        const bad = mutate(signed, at);
        const where = `${name} offset ${at} (${JSON.stringify(signed.slice(at - 10, at + 10))})`;
        expect({ where, ours: verifyXmlSignature(bad, { trustedCaPem: testPki().caPem }).ok }).toEqual({ where, ours: false });
        expect({ where, xmlCrypto: rawXmlCrypto(bad) }).toEqual({ where, xmlCrypto: false });
        expect({ where, xmlsec1: xmlsecVerify(bad) }).toEqual({ where, xmlsec1: false });
      }
    });
  }
});
