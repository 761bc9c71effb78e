import { beforeAll, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { ALG_C14N_EXC, ALG_ENVELOPED, ALG_RSA_SHA256, ALG_SHA256, DSIG_NS } from '../../shared/xml/profile.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { rfc4514Issuer } from '../../shared/xml/templates.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { xmlCommand } from '../../cli/xml.ts';
import { dictCreateEntry, pacs008 } from './fixtures.ts';
import { tempFile, testPki, xmlsecSign, xmlsecVerify } from './helpers.ts';

const ref = (uri: string, transforms: string[]) =>
  `<Reference URI="${uri}"><Transforms>${transforms.map((t) => `<Transform Algorithm="${t}"/>`).join('')}</Transforms><DigestMethod Algorithm="${ALG_SHA256}"/><DigestValue/></Reference>`;

/** An xmlsec1 signing template in this profile; xmlsec1 does not fill X509IssuerSerial, so it is pre-filled. */
function template(certPem: string, refs: string, keyInfoId?: string): string {
  const cert = new X509Certificate(certPem);
  return (
    `<Signature xmlns="${DSIG_NS}"><SignedInfo><CanonicalizationMethod Algorithm="${ALG_C14N_EXC}"/><SignatureMethod Algorithm="${ALG_RSA_SHA256}"/>${refs}</SignedInfo>` +
    `<SignatureValue/><KeyInfo${keyInfoId ? ` Id="${keyInfoId}"` : ''}><X509Data><X509IssuerSerial><X509IssuerName>${rfc4514Issuer(cert)}</X509IssuerName>` +
    `<X509SerialNumber>${BigInt(`0x${cert.serialNumber}`)}</X509SerialNumber></X509IssuerSerial><X509Certificate/></X509Data></KeyInfo></Signature>`
  );
}

function xmlsecSignedDict(key: string, cert: string, certPem: string): string {
  const doc = dictCreateEntry().replace('<Signature></Signature>', template(certPem, ref('', [ALG_ENVELOPED, ALG_C14N_EXC])));
  return xmlsecSign(doc, key, cert);
}

function xmlsecSignedSpi(): string {
  const { pki, certPem } = testPki();
  const refs = ref('#ki', [ALG_C14N_EXC]) + ref('#hdr', [ALG_ENVELOPED, ALG_C14N_EXC]) + ref('#doc', [ALG_C14N_EXC]);
  const doc = pacs008(5).replace('<AppHdr>', '<AppHdr Id="hdr">').replace('<Sgntr></Sgntr>', `<Sgntr>${template(certPem, refs, 'ki')}</Sgntr>`).replace(/<Document xmlns="([^"]*)">/, '<Document xmlns="$1" Id="doc">');
  return xmlsecSign(doc, pki.participant.key, pki.participant.cert, ['--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document']);
}

describe('documents signed by xmlsec1 with our certificates', () => {
  test('a DICT document signed by xmlsec1 --sign verifies with our verifier', () => {
    const { pki, certPem, caPem } = testPki();
    const v = verifyXmlSignature(xmlsecSignedDict(pki.participant.key, pki.participant.cert, certPem), { trustedCaPem: caPem });
    if (!v.ok) throw new Error(v.error.reason);
    expect(v.value.ispb).toBe('12345678');
  });

  test('an SPI message signed by xmlsec1 --sign verifies with our verifier', () => {
    const signed = xmlsecSignedSpi();
    expect(xmlsecVerify(signed)).toBe(true);
    const v = verifyXmlSignature(signed, { trustedCaPem: testPki().caPem });
    if (!v.ok) throw new Error(v.error.reason);
    expect(v.value.form).toBe('spi');
  });

  test('a signature by a certificate from an untrusted CA is refused (and accepted only when that cert is expected)', () => {
    const { rogue, caPem } = testPki();
    const signed = xmlsecSignedDict(rogue.key, rogue.cert, rogue.certPem);
    const v = verifyXmlSignature(signed, { trustedCaPem: caPem });
    expect(v.ok ? '' : v.error.reason).toContain('does not chain to a trusted CA');
    const pinned = verifyXmlSignature(signed, { certs: [rogue.certPem] });
    expect(pinned.ok && pinned.value.ispb).toBe('66666666');
  });

  test('an expired signing certificate is refused', async () => {
    const { keyPem, certPem, caPem } = testPki();
    const s = await createXmlSigner({ keyPem, certPem, threads: 0 });
    const r = await s.signDict(dictCreateEntry());
    await s.close();
    const v = verifyXmlSignature(r.ok ? r.value : '', { trustedCaPem: caPem, now: new Date('2040-01-01T00:00:00Z') });
    expect(v.ok ? '' : v.error.reason).toContain('not valid at');
  });
});

describe('signature wrapping and placement attacks are refused', () => {
  let spi = '';
  let dict = '';
  beforeAll(async () => {
    const { keyPem, certPem } = testPki();
    const s = await createXmlSigner({ keyPem, certPem, threads: 0 });
    const a = await s.signSpi(pacs008(77));
    const b = await s.signDict(dictCreateEntry());
    await s.close();
    if (!a.ok || !b.ok) throw new Error('signing failed');
    spi = a.value;
    dict = b.value;
  });
  const reason = (xml: string) => {
    const v = verifyXmlSignature(xml, { trustedCaPem: testPki().caPem });
    return v.ok ? 'ACCEPTED' : v.error.reason;
  };

  test('SPI: a forged Document with the signed one stashed under AppHdr (same Id) is refused', () => {
    const original = spi.slice(spi.indexOf('<Document'), spi.indexOf('</Document>') + '</Document>'.length);
    const forged = original.replace(/<IntrBkSttlmAmt Ccy="BRL">[^<]*</, '<IntrBkSttlmAmt Ccy="BRL">999999.99<');
    const attack = spi.replace(original, forged).replace('</Sgntr>', `</Sgntr><Rltd>${original}</Rltd>`);
    expect(reason(attack)).toContain('more than one element');
  });

  test('SPI: a forged Document under a new Id, with the signed one kept elsewhere, is refused', () => {
    const original = spi.slice(spi.indexOf('<Document'), spi.indexOf('</Document>') + '</Document>'.length);
    const forged = original.replace('Id="document-id"', 'Id="other"').replace(/<IntrBkSttlmAmt Ccy="BRL">[^<]*</, '<IntrBkSttlmAmt Ccy="BRL">999999.99<');
    const attack = spi.replace(original, forged).replace('</Sgntr>', `</Sgntr><Rltd>${original}</Rltd>`);
    expect(reason(attack)).toContain('not one the profile expects');
  });

  test('DICT: the signed document wrapped inside another root is refused', () => {
    const attack = `<Wrapper><CreateEntryRequest><Entry><Key>evil</Key></Entry></CreateEntryRequest>${dict}</Wrapper>`;
    expect(reason(attack)).toContain('child of the document root');
  });

  test('a second Signature element is refused', () => {
    const sig = dict.slice(dict.indexOf('<Signature '), dict.indexOf('</Signature>') + '</Signature>'.length);
    expect(reason(dict.replace('<Entry>', `<Entry>${sig}`))).toContain('exactly one ds:Signature');
  });

  test('a weaker algorithm in SignedInfo is refused by the profile check', () => {
    expect(reason(dict.replace(ALG_RSA_SHA256, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'))).toContain('SignatureMethod');
  });

  test('an SPI signature placed outside AppHdr/Sgntr is refused', () => {
    const sig = spi.slice(spi.indexOf('<ds:Signature '), spi.indexOf('</ds:Signature>') + '</ds:Signature>'.length);
    const moved = spi.replace(sig, '').replace('</Document>', `${sig}</Document>`);
    expect(reason(moved)).toContain('AppHdr/Sgntr');
  });
});

describe('xml CLI', () => {
  test('xml sign then xml verify exit 0; a tampered file exits 1; a missing file exits 2', async () => {
    const { pki } = testPki();
    const input = tempFile(pacs008(11), 'cli');
    const sign = Bun.spawnSync(['bun', 'cli/xml.ts', 'sign', input, '--key', pki.participant.key, '--cert', pki.participant.cert], { stdout: 'pipe', stderr: 'pipe' });
    expect(sign.exitCode).toBe(0);
    const signed = tempFile(sign.stdout.toString(), 'cli-signed');
    expect(await xmlCommand(['verify', signed, '--ca', pki.ca.cert])).toBe(0);
    const tampered = tempFile(sign.stdout.toString().replace('PAGPRI', 'PAGAGD'), 'cli-bad');
    expect(await xmlCommand(['verify', tampered, '--ca', pki.ca.cert])).toBe(1);
    expect(await xmlCommand(['verify', '/nonexistent.xml'])).toBe(2);
    expect(await xmlCommand(['sign'])).toBe(2);
    expect(await xmlCommand(['verify', signed, '--bogus', 'x'])).toBe(2);
  });
});
