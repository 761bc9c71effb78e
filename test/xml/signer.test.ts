import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { scanCanonical } from '../../shared/xml/c14n-fast.ts';
import { createRsaDigestSigner } from '../../shared/xml/rsa.ts';
import { c14n } from '../../shared/xml/signer-dom.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { DICT_PRETTY, dictCreateEntry, pacs008 } from './fixtures.ts';
import { testPki, xmlsecVerify } from './helpers.ts';

const SPI_PRETTY = `<?xml version="1.0" encoding="UTF-8"?>
<spi:Envelope xmlns:spi="https://www.bcb.gov.br/pi/pacs.008/1.13">
  <spi:AppHdr>
    <spi:BizMsgIdr>M12345678abcdefghijklmnopqrstuvw</spi:BizMsgIdr>
    <spi:MsgDefIdr>pacs.008.spi.1.13</spi:MsgDefIdr>
    <spi:Sgntr/>
  </spi:AppHdr>
  <!-- hand-written, prefixed, with comments and self-closing tags -->
  <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.spi.1.13"><FIToFICstmrCdtTrf><GrpHdr><NbOfTxs>1</NbOfTxs><Empty/></GrpHdr></FIToFICstmrCdtTrf></Document>
</spi:Envelope>`;

let signer: XmlSigner;
beforeAll(async () => {
  const { keyPem, certPem } = testPki();
  signer = await createXmlSigner({ keyPem, certPem, threads: 2 });
});
afterAll(() => signer.close());

function signedOk(r: { ok: boolean; value?: string; error?: unknown }): string {
  if (!r.ok) throw new Error(`signing failed: ${JSON.stringify(r.error)}`);
  return r.value!;
}

describe('signatures verify with xml-crypto and xmlsec1', () => {
  const cases: [string, () => string][] = [
    ['SPI pacs.008 built canonical (fast path)', () => pacs008(1)],
    ['SPI hand-written with prefixes, comments, self-closing tags (DOM path)', () => SPI_PRETTY],
    ['DICT built canonical with placeholder (fast path)', () => dictCreateEntry()],
    ['DICT hand-written with entities and a comment (DOM path)', () => DICT_PRETTY],
  ];
  for (const [name, input] of cases) {
    test(`${name}: our verifier (xml-crypto) and xmlsec1 --verify accept it`, async () => {
      const signed = signedOk(await signer.sign(input()));
      const v = verifyXmlSignature(signed, { trustedCaPem: testPki().caPem });
      if (!v.ok) throw new Error(v.error.reason);
      expect(v.value.ispb).toBe('12345678');
      expect(xmlsecVerify(signed)).toBe(true);
    });
  }

  test('the fast path is taken for builder output and the DOM path for everything else', async () => {
    const before = { ...signer.stats };
    signedOk(await signer.signSpi(pacs008(2)));
    signedOk(await signer.signDict(DICT_PRETTY));
    expect(signer.stats.fast - before.fast).toBe(1);
    expect(signer.stats.general - before.general).toBe(1);
  });

  test('the fast path digests equal xml-crypto exclusive c14n of the same elements', async () => {
    const signed = signedOk(await signer.signSpi(pacs008(3)));
    const doc = new DOMParser().parseFromString(signed, 'text/xml');
    const sx = new SignedXml({ publicCert: testPki().certPem, getCertFromKeyInfo: () => null });
    sx.loadSignature(doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!);
    expect(sx.checkSignature(signed)).toBe(true);
    const docEl = doc.getElementsByTagName('Document')[0]!;
    const digest = createHash('sha256').update(c14n(docEl as never)).digest('base64');
    expect(signed).toContain(`<ds:DigestValue>${digest}</ds:DigestValue>`);
  });

  test('a signed DICT document has its Signature as the last child of the root, replacing the placeholder', async () => {
    const signed = signedOk(await signer.signDict(dictCreateEntry()));
    expect(signed.match(/<Signature[ >]/g)?.length).toBe(1);
    expect(signed).toMatch(/<\/RequestId><Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">.*<\/Signature><\/CreateEntryRequest>$/);
  });

  test('an already signed SPI message is refused, not signed twice', async () => {
    const signed = signedOk(await signer.signSpi(pacs008(4)));
    const again = await signer.signSpi(signed);
    expect(again.ok).toBe(false);
  });

  test('concurrent signing on the pool: 64 messages all verify', async () => {
    const all = await Promise.all(Array.from({ length: 64 }, (_, i) => signer.signSpi(pacs008(100 + i))));
    for (const r of all) {
      const v = verifyXmlSignature(signedOk(r), { trustedCaPem: testPki().caPem });
      expect(v.ok).toBe(true);
    }
  });
});

describe('RSA engines', () => {
  const digest = createHash('sha256').update('SignedInfo bytes').digest();
  for (const forceBuiltin of [false, true]) {
    test(`${forceBuiltin ? 'built-in fallback' : 'libcrypto FFI'} signature verifies with node:crypto verify`, async () => {
      const rsa = await createRsaDigestSigner(testPki().keyPem, { forceBuiltin });
      expect(rsa.engine).toBe(forceBuiltin ? 'builtin' : 'openssl-ffi');
      const out = new Uint8Array(256);
      rsa.signDigests(digest, 1, out);
      rsa.close();
      const ok = nodeVerify(null, Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]), { key: createPublicKey(testPki().certPem), padding: 1 }, out);
      const okHashed = nodeVerify('sha256', Buffer.from('SignedInfo bytes'), createPublicKey(testPki().certPem), out);
      expect(ok || okHashed).toBe(true);
      expect(okHashed).toBe(true);
    });
  }

  test('the fallback signer (pool and inline) produces documents both verifiers accept', async () => {
    const { keyPem, certPem } = testPki();
    for (const threads of [0, 1]) {
      const warnings: string[] = [];
      const s = await createXmlSigner({ keyPem, certPem, threads, forceBuiltin: true, logger: { warn: (m: string) => warnings.push(m) } as never });
      const signed = signedOk(await s.signSpi(pacs008(7)));
      await s.close();
      expect(verifyXmlSignature(signed, { trustedCaPem: testPki().caPem }).ok).toBe(true);
      expect(xmlsecVerify(signed)).toBe(true);
    }
  });

  test('a key that does not match the certificate is refused at start', async () => {
    const { keyPem, rogue } = testPki();
    await expect(createXmlSigner({ keyPem, certPem: rogue.certPem, threads: 0 })).rejects.toThrow('does not match');
  });

  test('a closed signer refuses work', async () => {
    const { keyPem, certPem } = testPki();
    const s = await createXmlSigner({ keyPem, certPem, threads: 1 });
    await s.close();
    await expect(s.signSpi(pacs008(8))).rejects.toThrow('closed');
  });
});

test('builder output is accepted by the canonical scan', () => {
  expect(scanCanonical(pacs008(9))).not.toBeNull();
  expect(scanCanonical(dictCreateEntry())).not.toBeNull();
});
