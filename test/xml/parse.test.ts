import { describe, expect, test } from 'bun:test';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { canonicalSubtree, scanCanonical } from '../../shared/xml/c14n-fast.ts';
import { parseXml, parseXmlDom, XML_BYTES_MAX, XML_DEPTH_MAX } from '../../shared/xml/parse.ts';
import { c14n } from '../../shared/xml/signer-dom.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { dictCreateEntry, pacs008 } from './fixtures.ts';

const XXE = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>`;
const LAUGHS = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`;

describe('safe parsing refuses hostile documents before parsing', () => {
  for (const [name, xml, rule] of [
    ['an external entity (XXE)', XXE, 'no-doctype'],
    ['entity expansion (billion laughs)', LAUGHS, 'no-doctype'],
    ['a document over XML_BYTES_MAX', `<r>${'a'.repeat(XML_BYTES_MAX)}</r>`, 'max-bytes'],
    ['nesting deeper than XML_DEPTH_MAX', `${'<a>'.repeat(XML_DEPTH_MAX + 1)}${'</a>'.repeat(XML_DEPTH_MAX + 1)}`, 'max-depth'],
  ] as const) {
    test(`${name} is refused by parseXml, parseXmlDom and the verifier`, () => {
      const a = parseXml(xml);
      const b = parseXmlDom(xml);
      expect(a.ok ? '' : a.error.rule).toBe(rule);
      expect(b.ok ? '' : b.error.rule).toBe(rule);
      expect(verifyXmlSignature(xml, {}).ok).toBe(false);
    });
  }

  test('malformed XML is an error value, not an exception', () => {
    expect(parseXml('<a><b></a>').ok).toBe(false);
    expect(parseXmlDom('<a><b></a>').ok).toBe(false);
  });

  test('a pacs.008 parses to an object with strings kept as strings', () => {
    const r = parseXml(pacs008(1));
    if (!r.ok) throw new Error(r.error.detail);
    const env = r.value.Envelope as { Document: { FIToFICstmrCdtTrf: { CdtTrfTxInf: { DbtrAcct: { Id: { Othr: { Issr: unknown } } } } } } };
    expect(env.Document.FIToFICstmrCdtTrf.CdtTrfTxInf.DbtrAcct.Id.Othr.Issr).toBe('0001');
  });
});

describe('the canonical scan accepts exactly what exc-c14n leaves unchanged', () => {
  const canonical = [
    pacs008(1),
    dictCreateEntry(),
    '<a xmlns="urn:a" b="1" c="&quot;&amp;&lt;>&#x9;&#xA;&#xD;"><b xmlns="">x &amp; &lt; &gt; &#xD; é 😀</b>\n  <c xmlns="urn:c"><d></d></c></a>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<r>text</r>\n',
  ];
  for (const xml of canonical) {
    test(`accepted and byte-equal to xml-crypto c14n: ${xml.slice(0, 40)}`, () => {
      const scan = scanCanonical(xml);
      expect(scan).not.toBeNull();
      const doc = new DOMParser().parseFromString(xml, 'text/xml');
      const root = scan!.elements[0]!;
      expect(xml.slice(root.start, root.end)).toBe(c14n(doc.documentElement as never));
      for (const el of scan!.elements.filter((e) => e.depth > 0)) {
        let node: Element | null = null;
        const all = doc.getElementsByTagName(el.name);
        for (let i = 0; i < all.length && !node; i++) if (c14n(all[i] as never) === canonicalSubtree(xml, el)) node = all[i]!;
        expect(node === null ? canonicalSubtree(xml, el) : 'matched').toBe('matched');
      }
    });
  }

  const nonCanonical = [
    '<a/>',
    '<a ></a>',
    "<a b='1'></a>",
    '<a c="1" b="2"></a>',
    '<a b="1" xmlns="urn:x"></a>',
    '<a xmlns="urn:x"><b xmlns="urn:x"></b></a>',
    '<a xmlns=""></a>',
    '<a>x > y</a>',
    '<a>&quot;</a>',
    '<a>&#65;</a>',
    '<a b="x\ty"></a>',
    '<a><!-- c --></a>',
    '<a><![CDATA[x]]></a>',
    '<p:a xmlns:p="urn:p"></p:a>',
    '<a>\r\n</a>',
    ' <a></a>x',
    '<!DOCTYPE a><a></a>',
  ];
  for (const xml of nonCanonical) {
    test(`refused (takes the DOM path): ${JSON.stringify(xml)}`, () => {
      expect(scanCanonical(xml)).toBeNull();
    });
  }
});
