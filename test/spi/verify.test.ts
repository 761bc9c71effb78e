// The inbox's fast signature check agrees with the general XMLDSig verifier (shared/xml/verify.ts):
// it accepts exactly the well-signed messages, refuses tampering, and hands anything outside the
// profile's canonical form to the general verifier.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { createCa, ensureDevPki, issueCert, readPem } from '../../shared/pki.ts';
import { buildPacs002 } from '../../shared/spi/pacs002.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { createSpiVerifier } from '../../services/spi/messages/verify.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxiq-spi-verify-'));
const pki = ensureDevPki(dir, { ispb: '12345678', bacenIspb: '00038166' });
const caPem = readPem(pki.ca.cert);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function signedReport(files = pki.bacen) {
  const signer = await createXmlSigner({ keyPem: readPem(files.key), certPem: readPem(files.cert), threads: 0 });
  const now = new Date();
  const xml = buildPacs002({ from: '00038166', to: '12345678', bizMsgIdr: newMsgId('00038166'), creDt: now }, {
    originalMsgId: newMsgId('12345678'), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: newEndToEndId('12345678', now), status: 'ACSC', settledAt: now,
  });
  const signed = await signer.signSpi(xml);
  await signer.close();
  if (!signed.ok) throw new Error(signed.error.detail);
  return signed.value;
}

describe('the inbox signature check', () => {
  test('accepts a well-signed message on the fast path, naming the signer', async () => {
    const v = createSpiVerifier(caPem);
    const xml = await signedReport();
    expect(v.verify(xml)).toEqual({ ok: true, ispb: '00038166', fast: true });
    expect(verifyXmlSignature(xml, { trustedCaPem: caPem }).ok).toBe(true);
  });

  test('refuses a changed amount, status or SignatureValue, as the general verifier does', async () => {
    const v = createSpiVerifier(caPem);
    const xml = await signedReport();
    const tampered = [
      xml.replace('<TxSts>ACSC</TxSts>', '<TxSts>RJCT</TxSts>'),
      xml.replace(/<ds:SignatureValue>(.)/, (_m, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`),
      xml.replace('<To><FIId><FinInstnId><Othr><Id>12345678', '<To><FIId><FinInstnId><Othr><Id>12345679'),
    ];
    for (const t of tampered) {
      expect(v.verify(t).ok).toBe(false);
      expect(verifyXmlSignature(t, { trustedCaPem: caPem }).ok).toBe(false);
    }
  });

  test('refuses a certificate from another CA', async () => {
    const other = createCa(join(dir, 'other'), 'Other CA');
    const rogue = issueCert(other, join(dir, 'other'), 'rogue', '00038166');
    expect(createSpiVerifier(caPem).verify(await signedReport(rogue))).toMatchObject({ ok: false });
  });

  test('a document outside the canonical form goes to the general verifier', async () => {
    const v = createSpiVerifier(caPem);
    const xml = await signedReport();
    // a double space in the (unsigned) Envelope start tag is not exc-c14n output
    const pretty = xml.replace('<Envelope xmlns=', '<Envelope  xmlns=');
    const r = v.verify(pretty);
    expect(r).toEqual({ ok: true, ispb: '00038166', fast: false });
    expect(v.stats.general).toBe(1);
    const truncated = xml.slice(0, xml.length / 2);
    expect(v.verify(truncated).ok).toBe(false);
  });
});
