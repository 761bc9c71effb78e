// The one-pass reader (shared/xml/parse-fast.ts) must give exactly what the general path gives
// (fast-xml-parser with its validator), or decline (null) and leave the document to it: on our real messages,
// on hand-written edge cases, and on generated documents mixing the subset with everything outside it.
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { buildPacs002 } from '../../shared/spi/pacs002.ts';
import { parseSpiMessage } from '../../shared/spi/message.ts';
import { parsePlainXml } from '../../shared/xml/parse-fast.ts';
import { parseXml, parseXmlGeneral, XML_DEPTH_MAX } from '../../shared/xml/parse.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { DICT_PRETTY, dictCreateEntry, pacs008 } from './fixtures.ts';
import { testPki } from './helpers.ts';

/** null, or the general path's object with the same keys in the same order */
function agrees(xml: string): void {
  const plain = parsePlainXml(xml);
  if (plain === null) return;
  const general = parseXmlGeneral(xml);
  if (!general.ok) throw new Error(`the one-pass reader accepted what the general path refuses (${general.error.detail}): ${JSON.stringify(xml)}`);
  expect(JSON.stringify(plain)).toBe(JSON.stringify(general.value));
}

describe('the one-pass reader', () => {
  test('reads our signed SPI messages and DICT requests exactly as the general path does', async () => {
    const t = testPki();
    const signer = await createXmlSigner({ keyPem: t.keyPem, certPem: t.certPem, threads: 0 });
    const header = { from: '00038166', to: '12345678', bizMsgIdr: 'M00038166a1b2c3d4e5f600000000001', creDt: new Date('2026-11-25T12:00:00.123Z') };
    const pacs002 = buildPacs002(header, { originalMsgId: 'M12345678a1b2c3d4e5f600000000001', originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: 'E12345678202611251200abcdefghijk', status: 'RJCT', reason: 'AM04' });
    const messages = [pacs008(1), pacs002, dictCreateEntry()];
    const signed = await Promise.all([signer.signSpi(pacs008(1)), signer.signSpi(pacs002), signer.signDict(dictCreateEntry())]);
    for (const s of signed) {
      expect(s.ok).toBe(true);
      if (s.ok) messages.push(s.value);
    }
    for (const xml of messages) {
      const plain = parsePlainXml(xml);
      expect(plain).not.toBeNull();
      agrees(xml);
    }
    // the SPI reader reads a signed pacs.002 through it
    expect(parseSpiMessage(messages[4]!)).toMatchObject({ ok: true, value: { type: 'pacs.002', signed: true, message: { status: 'RJCT', reason: 'AM04' } } });
  });

  const cases: [string, string, 'read' | 'declined'][] = [
    ['text and attributes', '<a x=" 1 ">t</a>', 'read'],
    ['entities in text and attributes', '<a x="&lt;&quot;&apos;">&lt;&gt;&quot;&apos;&amp;</a>', 'read'],
    ['empty elements', '<r><a></a><b> </b><c x="1"></c></r>', 'read'],
    ['repeated children become an array', '<r><a x="1"></a><a>2</a><b>0</b><a>3</a></r>', 'read'],
    ['whitespace between children', '<r>\n  <a>1</a>\n\t<a>2</a>\n</r>\n', 'read'],
    ['prefixes removed, xmlns dropped', '<p:r xmlns:p="u" xmlns="v"><p:a Id="x">1</p:a></p:r>', 'read'],
    ['text with a raw >', '<a>1 > 0</a>', 'read'],
    ['an XML declaration', '<?xml version="1.0" encoding="UTF-8"?><a>1</a>', 'declined'],
    ['a comment', '<r><!-- c --><a>1</a></r>', 'declined'],
    ['CDATA', '<r><![CDATA[x]]></r>', 'declined'],
    ['a DOCTYPE', '<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', 'declined'],
    ['an undeclared entity', '<r>&x;</r>', 'declined'],
    ['a character reference', '<r>&#65;</r>', 'declined'],
    ['a lone ampersand', '<r>a & b</r>', 'declined'],
    ['CR line ends', '<r>a\r\nb</r>', 'declined'],
    ['mixed content', '<r><a>1</a>x<b>2</b></r>', 'declined'],
    ['text before the first child', '<r>x<a>1</a></r>', 'declined'],
    ['a self-closing tag', '<r><a/></r>', 'declined'],
    ['single-quoted attributes', "<r a='1'></r>", 'declined'],
    ['duplicate attributes', '<r a="1" a="2"></r>', 'declined'],
    ['a prefixed attribute', '<r p:a="1" xmlns:p="u"></r>', 'declined'],
    ['a tab in an attribute value', '<r a="1\t2"></r>', 'declined'],
    ['a prototype name', '<r><__proto__>1</__proto__></r>', 'declined'],
    ['constructor as an element', '<r><constructor>1</constructor></r>', 'declined'],
    ['mismatched end tag', '<r><a>1</b></r>', 'declined'],
    ['unclosed root', '<r><a>1</a>', 'declined'],
    ['two roots', '<a>1</a><b>2</b>', 'declined'],
    ['trailing junk', '<a>1</a>x', 'declined'],
    ['nesting at the bound', `${'<a>'.repeat(XML_DEPTH_MAX)}${'</a>'.repeat(XML_DEPTH_MAX)}`, 'declined'],
    ['nesting past the bound', `${'<a>'.repeat(XML_DEPTH_MAX + 1)}${'</a>'.repeat(XML_DEPTH_MAX + 1)}`, 'declined'],
    ['a hand-written DICT request', DICT_PRETTY, 'declined'],
  ];
  for (const [name, xml, expected] of cases) {
    test(`${name}: ${expected}`, () => {
      expect(parsePlainXml(xml) === null ? 'declined' : 'read').toBe(expected);
      agrees(xml);
      // whichever path reads it, parseXml's answer is the general path's
      expect(JSON.stringify(parseXml(xml))).toBe(JSON.stringify(parseXmlGeneral(xml)));
    });
  }

  test('generated documents: read exactly as the general path reads them, or declined', () => {
    // mostly the subset, with a little of everything outside it
    const mostly = <T,>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: rare, weight: 1 });
    const name = mostly(fc.constantFrom('a', 'b', 'Id', 'p:a', 'ds:b', 'x.y', '_z'), fc.constantFrom('constructor', '1a', 'a:b:c'));
    const attrName = mostly(fc.constantFrom('x', 'Id', 'xmlns', 'xmlns:p', 'y'), fc.constantFrom('p:x', 'toString'));
    const piece = mostly(
      fc.constantFrom('v', ' ', '  w ', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '\n', 'é', "'", '>', ']]>'),
      fc.constantFrom('&#65;', '&', '<', '\t', '\r', '"', '&nbsp;'),
    );
    const text = fc.array(piece, { maxLength: 4 }).map((p) => p.join(''));
    const attrs = fc.array(fc.tuple(attrName, text), { maxLength: 3 }).map((as) => as.map(([n, v]) => ` ${n}="${v}"`).join(''));
    const { node } = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { arbitrary: fc.tuple(name, attrs, text).map(([n, a, t]) => `<${n}${a}>${t}</${n}>`), weight: 6 },
        { arbitrary: fc.tuple(name, attrs, fc.array(mostly(tie('node'), text), { maxLength: 4 })).map(([n, a, kids]) => `<${n}${a}>${kids.join('')}</${n}>`), weight: 6 },
        { arbitrary: fc.tuple(name, attrs).map(([n, a]) => `<${n}${a}/>`), weight: 1 },
        { arbitrary: fc.constantFrom('<!-- c -->', '<![CDATA[x]]>', '<?pi x?>', '<a>1</b>'), weight: 1 },
      ),
    }));
    const doc = fc.tuple(mostly(fc.constantFrom('', ' ', '\n'), fc.constant('<?xml version="1.0"?>')), node, mostly(fc.constantFrom('', '\n'), fc.constant(' x'))).map(([a, n, z]) => a + n + z);
    let read = 0;
    fc.assert(fc.property(doc, (xml) => {
      if (parsePlainXml(xml) !== null) read++;
      agrees(xml);
    }), { numRuns: 3_000 });
    // the generator must exercise the reader, not only its refusals
    expect(read).toBeGreaterThan(300);
  });
});
