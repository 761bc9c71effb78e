// Realistic pacs.008 SPI envelopes, built with the canonical builder (the signer's fast path): the load
// tests sign them, the XML tests reuse them (test/xml/fixtures.ts re-exports this file).
import { buildCanonicalXml, el } from '../../shared/xml/build.ts';

export const SPI_NS = 'https://www.bcb.gov.br/pi/pacs.008/1.13';
export const PACS008_NS = 'urn:iso:std:iso:20022:tech:xsd:pacs.008.spi.1.13';

/** What differs between two payments of the same pair of participants. */
interface Pacs008Fields {
  /** 11 digits: makes BizMsgIdr/MsgId and EndToEndId unique */
  seq: string;
  amount: string;
  /** the payment's number as the payer's remittance text shows it */
  order: string;
}

const fiid = (ispb: string) => el('FIId', null, el('FinInstnId', null, el('Othr', null, el('Id', null, ispb))));
const account = (id: string, branch: string, type: string) =>
  [el('Id', null, el('Othr', null, el('Id', null, id), el('Issr', null, branch))), el('Tp', null, el('Cd', null, type))];
const agent = (ispb: string) => el('FinInstnId', null, el('ClrSysMmbId', null, el('MmbId', null, ispb)));

function fields(n: number): Pacs008Fields {
  return { seq: String(n).padStart(11, '0'), amount: `${1 + (n % 9999)}.${String(n % 100).padStart(2, '0')}`, order: String(n) };
}

function build(f: Pacs008Fields, from: string, to: string): string {
  const msgId = `M${from}${'a1b2c3d4e5f6'}${f.seq}`;
  const e2e = `E${from}202611251830${f.seq}`;
  const now = '2026-11-25T18:30:12.345Z';
  return buildCanonicalXml({
    name: 'Envelope',
    ns: SPI_NS,
    children: [
      el('AppHdr', null,
        el('Fr', null, fiid(from)), el('To', null, fiid(to)), el('BizMsgIdr', null, msgId),
        el('MsgDefIdr', null, 'pacs.008.spi.1.13'), el('CreDt', null, now), el('Sgntr', null)),
      { name: 'Document', ns: PACS008_NS, children: [
        el('FIToFICstmrCdtTrf', null,
          el('GrpHdr', null, el('MsgId', null, msgId), el('CreDtTm', null, now), el('NbOfTxs', null, '1'),
            el('SttlmInf', null, el('SttlmMtd', null, 'CLRG')),
            el('PmtTpInf', null, el('InstrPrty', null, 'HIGH'), el('SvcLvl', null, el('Prtry', null, 'PAGPRI')))),
          el('CdtTrfTxInf', null,
            el('PmtId', null, el('EndToEndId', null, e2e)),
            el('IntrBkSttlmAmt', { Ccy: 'BRL' }, f.amount),
            el('AccptncDtTm', null, now), el('ChrgBr', null, 'SLEV'),
            el('MndtRltdInf', null, el('Tp', null, el('LclInstrm', null, el('Prtry', null, 'DICT')))),
            el('Dbtr', null, el('Nm', null, 'Maria da Silva & Filhos <Ltda>'), el('Id', null, el('PrvtId', null, el('Othr', null, el('Id', null, '52998224725'))))),
            el('DbtrAcct', null, ...account('90530802', '0001', 'CACC')),
            el('DbtrAgt', null, agent(from)),
            el('CdtrAgt', null, agent('99999004')),
            el('Cdtr', null, el('Nm', null, 'João Pereira Comércio'), el('Id', null, el('PrvtId', null, el('Othr', null, el('Id', null, '11222333000181'))))),
            el('CdtrAcct', null, ...account('1169414', '0001', 'TRAN'), el('Prxy', null, el('Id', null, '+5511987654321'))),
            el('Purp', null, el('Cd', null, 'IPAY')),
            el('RmtInf', null, el('Ustrd', null, `Pagamento pedido #${f.order} — obrigado!`)),
          ),
        ),
      ] },
    ],
  });
}

/** A pacs.008.spi.1.13 payment of `n` centavos-ish variety, ~2.5 KB, already exclusive-canonical. */
export function pacs008(n: number, from = '12345678', to = '00038166'): string {
  return build(fields(n), from, to);
}

/**
 * pacs008(n) for any n, built once and then stamped: a load driver gets a distinct message per operation
 * (its own ids, amount and text) for a few string concatenations instead of a builder run on its thread.
 * The varying values are digits, which canonical XML writes as they are, so stamping is exact.
 */
export function pacs008Stamper(from = '12345678', to = '00038166'): (n: number) => string {
  const marks = { seq: '\uE000', amount: '\uE001', order: '\uE002' } as const;
  const template = build(marks, from, to);
  const pieces = template.split(/([\uE000-\uE002])/);
  const stamp = (n: number): string => {
    const f = fields(n);
    let out = '';
    for (const p of pieces) out += p === marks.seq ? f.seq : p === marks.amount ? f.amount : p === marks.order ? f.order : p;
    return out;
  };
  // a stamp that differed from the builder would benchmark some other message
  for (const n of [0, 7, 123_456, 98_765_432_109]) if (stamp(n) !== pacs008(n, from, to)) throw new Error('pacs008Stamper drifted from pacs008');
  return stamp;
}
