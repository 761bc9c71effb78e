// Hostile XML is refused by the safe parser and by the signature verifier: external entities, entity
// expansion, oversized and deeply nested documents, and signature wrapping (a valid signature moved to
// cover other content, or the signed Document kept aside while another one is processed).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { buildPacs008, type Pacs008 } from '../../shared/spi/pacs008.ts';
import { parseSpiMessage } from '../../shared/spi/message.ts';
import { parseXml, parseXmlDom, XML_BYTES_MAX, XML_DEPTH_MAX } from '../../shared/xml/parse.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { testPki } from '../xml/helpers.ts';

fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20_261_125) });

const AT = new Date('2026-11-25T18:30:12.345Z');
const header = { from: '12345678', to: '00038166', bizMsgIdr: 'M12345678a1b2c3d4e5f6a1b2c3d4e5f', creDt: AT };
const payment = (amountCentavos: bigint, e2eSuffix = '345abcdef'): Pacs008 => ({
  endToEndId: `E12345678202611251830${'12'}${e2eSuffix}`, amountCentavos, acceptedAt: AT, initiationForm: 'DICT', priority: 'HIGH',
  debtor: { name: 'Maria da Silva', taxId: '52998224725' },
  debtorAccount: { ispb: '12345678', branch: '0001', number: '90530802', type: 'CACC' },
  creditor: { name: 'João Pereira', taxId: '11222333000181' },
  creditorAccount: { ispb: '10000001', number: '1169414', type: 'TRAN' },
  key: '+5511987654321',
});

let signer: XmlSigner;
let signed: string;
let other: string;
// certificate validity is checked at the time of the run: the test PKI is issued when the suite starts,
// so a fixed instant (AT, the messages' own time) was before its notBefore on any run after 18:30 UTC of
// the day the PKI was made (a fresh clone)
const trust = () => ({ trustedCaPem: testPki().caPem, now: new Date() });
const refused = (xml: string) => {
  const r = verifyXmlSignature(xml, trust());
  return !r.ok;
};

beforeAll(async () => {
  const pki = testPki();
  signer = await createXmlSigner({ keyPem: pki.keyPem, certPem: pki.certPem, threads: 0 });
  const a = await signer.signSpi(buildPacs008(header, payment(1_00n)));
  const b = await signer.signSpi(buildPacs008({ ...header, bizMsgIdr: 'M12345678zzzzzzzzzzzzzzzzzzzzzzz' }, payment(999_999_99n, '999zzzzzz')));
  if (!a.ok || !b.ok) throw new Error('signing the fixtures failed');
  signed = a.value;
  other = b.value;
});
afterAll(async () => {
  await signer.close();
});

const documentOf = (xml: string) => xml.match(/<Document[\s\S]*<\/Document>/)![0];
const signatureOf = (xml: string) => xml.match(/<Sgntr>[\s\S]*<\/Sgntr>/)![0];

describe('the verifier', () => {
  test('accepts the untouched messages: every refusal below is the attack, not the fixture', () => {
    expect(verifyXmlSignature(signed, trust()).ok).toBe(true);
    expect(verifyXmlSignature(other, trust()).ok).toBe(true);
    expect(parseSpiMessage(signed).ok).toBe(true);
  });

  test('a valid signature moved onto another message is refused', () => {
    expect(refused(other.replace(signatureOf(other), signatureOf(signed)))).toBe(true);
  });

  test('the signed Document kept aside while another Document takes its place is refused', () => {
    const swapped = signed.replace(documentOf(signed), documentOf(other));
    expect(refused(swapped)).toBe(true);
    // …also when the original rides along inside the message, where a lax verifier would find it by Id
    expect(refused(swapped.replace('</Sgntr>', `</Sgntr>${documentOf(signed)}`))).toBe(true);
    expect(refused(signed.replace('</Sgntr>', `</Sgntr>${documentOf(other)}`))).toBe(true);
  });

  test('any signed element copied anywhere else in the message is refused (wrapping at random positions)', () => {
    const tags = [...signed.matchAll(/<([A-Za-z]+)[ >]/g)].map((m) => m.index!);
    fc.assert(fc.property(fc.constantFrom(...tags), fc.constantFrom(documentOf(other), signatureOf(signed), documentOf(signed)), (at, piece) => {
      expect(refused(signed.slice(0, at) + piece + signed.slice(at))).toBe(true);
    }), { numRuns: 150 });
  });
});

describe('documents refused before anything reads them', () => {
  const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>';
  const laughs = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`;
  const deep = `${'<a>'.repeat(XML_DEPTH_MAX + 1)}x${'</a>'.repeat(XML_DEPTH_MAX + 1)}`;
  const big = `<r>${'x'.repeat(XML_BYTES_MAX)}</r>`;
  // a DOCTYPE smuggled into a signed message: the signature must not even be looked at
  const signedXxe = () => signed.replace(/^(<\?xml[^>]*\?>)?/, (d) => `${d}<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>`);

  for (const [name, xml, rule] of [
    ['an external entity (XXE)', () => xxe, 'no-doctype'],
    ['entity expansion (billion laughs)', () => laughs, 'no-doctype'],
    [`nesting deeper than ${XML_DEPTH_MAX}`, () => deep, 'max-depth'],
    [`a document over ${XML_BYTES_MAX} bytes`, () => big, 'max-bytes'],
    ['a signed message with a DOCTYPE slipped in', signedXxe, 'no-doctype'],
  ] as const) {
    test(`${name}: refused by parseXml, parseXmlDom, the SPI parser and the verifier`, () => {
      const doc = xml();
      for (const r of [parseXml(doc), parseXmlDom(doc), parseSpiMessage(doc)]) expect(r).toMatchObject({ ok: false, error: { rule } });
      expect(refused(doc)).toBe(true);
    });
  }
});
