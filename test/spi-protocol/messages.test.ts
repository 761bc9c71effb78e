// SPI messages: every builder's output parses back to the same values, signs on the fast path, verifies
// (our verifier and xmlsec1), and every malformed input is refused with the field and the rule it broke.
import { describe, expect, test } from 'bun:test';
import { newEndToEndId, newMsgId, newReturnId } from '../../shared/ids.ts';
import { buildCamt052, parseCamt052 } from '../../shared/spi/camt052.ts';
import { buildCamt053, parseCamt053, type Camt053 } from '../../shared/spi/camt053.ts';
import { envelopeNamespaceOf, msgDefIdrOf, peekHeader, type AppHdr } from '../../shared/spi/envelope.ts';
import { parseSpiMessage } from '../../shared/spi/message.ts';
import { buildPacs002, parsePacs002, type Pacs002 } from '../../shared/spi/pacs002.ts';
import { buildPacs004, parsePacs004, type Pacs004 } from '../../shared/spi/pacs004.ts';
import { buildPacs008, parsePacs008, type Pacs008 } from '../../shared/spi/pacs008.ts';
import { scanCanonical } from '../../shared/xml/c14n-fast.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../shared/xml/verify.ts';
import { testPki, xmlsecVerify } from '../xml/helpers.ts';

const at = new Date('2026-11-25T18:30:12.345Z');
const header = (from = '12345678', to = '00038166'): AppHdr => ({ from, to, bizMsgIdr: newMsgId(from), creDt: at });

const payment = (): Pacs008 => ({
  endToEndId: newEndToEndId('12345678', at),
  amountCentavos: 123456n,
  acceptedAt: at,
  initiationForm: 'DICT',
  priority: 'HIGH',
  debtor: { name: 'Maria da Silva & Filhos <Ltda>', taxId: '52998224725' },
  debtorAccount: { ispb: '12345678', branch: '0001', number: '90530802', type: 'CACC' },
  creditor: { name: 'João Pereira Comércio', taxId: '11222333000181' },
  creditorAccount: { ispb: '10000001', number: '1169414', type: 'TRAN' },
  key: '+5511987654321',
  remittanceInfo: 'Pagamento pedido #7 — obrigado!',
});

describe('pacs.008', () => {
  test('round-trips every field, in the Envelope namespace and MsgDefIdr of its version', () => {
    const h = header();
    const p = payment();
    const xml = buildPacs008(h, p);
    expect(xml).toStartWith(`<Envelope xmlns="${envelopeNamespaceOf('pacs.008')}"><AppHdr>`);
    expect(xml).toContain(`<MsgDefIdr>${msgDefIdrOf('pacs.008')}</MsgDefIdr>`);
    expect(scanCanonical(xml)).not.toBeNull();
    const back = parsePacs008(xml);
    expect(back).toEqual({ ok: true, value: { type: 'pacs.008', msgDefIdr: 'pacs.008.spi.1.13', header: h, message: p, signed: false } });
  });

  test('a QR dynamic payment carries its txid; one without txid is refused', () => {
    const p: Pacs008 = { ...payment(), initiationForm: 'QRDN', txid: 'abcdefghijklmnopqrstuvwxyz012' };
    expect(parsePacs008(buildPacs008(header(), p))).toMatchObject({ ok: true, value: { message: { txid: p.txid } } });
    const { txid: _t, ...noTxid } = p;
    const r = parsePacs008(buildPacs008(header(), noTxid));
    expect(r).toMatchObject({ ok: false, error: { field: 'Envelope.Document.FIToFICstmrCdtTrf.CdtTrfTxInf.PmtId.TxId', rule: 'required' } });
  });

  test('a manual payment has no key; a key-addressed one must name its key', () => {
    const { key: _k, ...manual } = payment();
    expect(parsePacs008(buildPacs008(header(), { ...manual, initiationForm: 'MANU' })).ok).toBe(true);
    expect(parsePacs008(buildPacs008(header(), { ...manual, initiationForm: 'DICT' }))).toMatchObject({ ok: false, error: { rule: 'required' } });
    expect(parsePacs008(buildPacs008(header(), { ...payment(), initiationForm: 'MANU' }))).toMatchObject({ ok: false, error: { rule: 'forbidden' } });
  });

  const cases: [string, (xml: string) => string, string, string][] = [
    ['a 3-decimal amount', (x) => x.replace('>1234.56<', '>1234.567<'), 'CdtTrfTxInf.IntrBkSttlmAmt', 'format'],
    ['a negative amount', (x) => x.replace('>1234.56<', '>-1234.56<'), 'CdtTrfTxInf.IntrBkSttlmAmt', 'format'],
    ['a zero amount', (x) => x.replace('>1234.56<', '>0.00<'), 'CdtTrfTxInf.IntrBkSttlmAmt', 'minimum'],
    ['another currency', (x) => x.replace('Ccy="BRL"', 'Ccy="USD"'), 'CdtTrfTxInf.IntrBkSttlmAmt', 'currency'],
    ['a bad EndToEndId', (x) => x.replace(/<EndToEndId>E/, '<EndToEndId>X'), 'CdtTrfTxInf.PmtId.EndToEndId', 'format'],
    ['an EndToEndId of another PSP', (x) => x.replace(/<EndToEndId>E12345678/, '<EndToEndId>E99999999'), 'CdtTrfTxInf.PmtId.EndToEndId', 'issuer'],
    ['a missing debtor name', (x) => x.replace(/<Nm>Maria[^<]*<\/Nm>/, ''), 'CdtTrfTxInf.Dbtr.Nm', 'required'],
    ['an unknown account type', (x) => x.replace('<Cd>CACC</Cd>', '<Cd>XXXX</Cd>'), 'CdtTrfTxInf.DbtrAcct.Tp.Cd', 'enum'],
    ['a bad branch', (x) => x.replace('<Issr>0001</Issr>', '<Issr>01</Issr>'), 'CdtTrfTxInf.DbtrAcct.Id.Othr.Issr', 'format'],
    ['two transactions', (x) => x.replace('<NbOfTxs>1</NbOfTxs>', '<NbOfTxs>2</NbOfTxs>'), 'GrpHdr.NbOfTxs', 'single-transaction'],
    ['a MsgId differing from BizMsgIdr', (x) => x.replace(/<MsgId>M12345678/, '<MsgId>M12345679'), 'GrpHdr.MsgId', 'matches-header'],
    ['an impossible date', (x) => x.replace('<AccptncDtTm>2026-11-25', '<AccptncDtTm>2026-13-45'), 'CdtTrfTxInf.AccptncDtTm', 'date-time'],
  ];
  for (const [what, mutate, field, rule] of cases) {
    test(`${what} is refused at ${field} (${rule})`, () => {
      const r = parsePacs008(mutate(buildPacs008(header(), payment())));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'InvalidRequest', field: `Envelope.Document.FIToFICstmrCdtTrf.${field}`, rule });
    });
  }

  test('the envelope itself: wrong version, wrong namespace, wrong root, not XML', () => {
    const xml = buildPacs008(header(), payment());
    expect(parsePacs008(xml.replace('pacs.008.spi.1.13', 'pacs.008.spi.1.2'))).toMatchObject({ ok: false, error: { field: 'Envelope.AppHdr.MsgDefIdr', rule: 'version' } });
    expect(parsePacs008(xml.replace('/pi/pacs.008/1.13', '/pi/pacs.008/9.99'))).toMatchObject({ ok: false, error: { field: 'Envelope', rule: 'namespace' } });
    expect(parsePacs008('<Other></Other>')).toMatchObject({ ok: false, error: { rule: 'root' } });
    expect(parsePacs008('<Envelope><AppHdr>')).toMatchObject({ ok: false, error: { rule: 'well-formed' } });
    expect(parsePacs002(xml)).toMatchObject({ ok: false, error: { field: 'Envelope.AppHdr.MsgDefIdr', rule: 'message-type' } });
  });
});

describe('pacs.002', () => {
  test('ACSC with settlement time and RJCT with reason round-trip', () => {
    const h = header('00038166', '12345678');
    const acsc: Pacs002 = { originalMsgId: newMsgId('12345678'), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: newEndToEndId('12345678', at), status: 'ACSC', settledAt: at };
    expect(parsePacs002(buildPacs002(h, acsc))).toMatchObject({ ok: true, value: { header: h, message: acsc } });
    const rjct: Pacs002 = { ...acsc, status: 'RJCT', reason: 'AM04', additionalInfo: 'saldo insuficiente' };
    delete rjct.settledAt;
    expect(parsePacs002(buildPacs002(h, rjct))).toMatchObject({ ok: true, value: { message: rjct } });
  });

  test('a rejection without reason, a reason on ACSC, or an unknown code are refused', () => {
    const h = header('00038166', '12345678');
    const base: Pacs002 = { originalMsgId: newMsgId('12345678'), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: newEndToEndId('12345678', at), status: 'RJCT', reason: 'AC03' };
    const xml = buildPacs002(h, base);
    expect(parsePacs002(xml.replace(/<StsRsnInf>.*<\/StsRsnInf>/, ''))).toMatchObject({ ok: false, error: { rule: 'required' } });
    expect(parsePacs002(xml.replace('<TxSts>RJCT', '<TxSts>ACSC'))).toMatchObject({ ok: false, error: { rule: 'forbidden' } });
    expect(parsePacs002(xml.replace('<Cd>AC03', '<Cd>ZZ99'))).toMatchObject({ ok: false, error: { rule: 'enum' } });
    expect(() => buildPacs002(h, { ...base, reason: undefined } as Pacs002)).toThrow();
  });
});

describe('pacs.004', () => {
  test('a partial return round-trips and goes back to the PSP that issued the EndToEndId', () => {
    const h = header('10000001');
    const r: Pacs004 = { returnId: newReturnId('10000001', at), originalEndToEndId: newEndToEndId('12345678', at), amountCentavos: 500n, reason: 'MD06', additionalInfo: 'devolução parcial', returnerIspb: '10000001', receiverIspb: '12345678' };
    expect(parsePacs004(buildPacs004(h, r))).toMatchObject({ ok: true, value: { header: h, message: r } });
    expect(parsePacs004(buildPacs004(h, { ...r, receiverIspb: '10000002' }))).toMatchObject({ ok: false, error: { rule: 'matches-original' } });
    expect(parsePacs004(buildPacs004(h, r).replace('<Cd>MD06', '<Cd>AM04'))).toMatchObject({ ok: false, error: { rule: 'enum' } });
    expect(parsePacs004(buildPacs004(header('10000002'), r))).toMatchObject({ ok: false, error: { rule: 'matches-sender' } });
  });
});

describe('camt.052 / camt.053', () => {
  test('a balance report round-trips, zero included', () => {
    const h = header('00038166', '12345678');
    for (const balanceCentavos of [0n, 987654321n]) {
      const c = { reportId: 'R20261125183012', accountIspb: '12345678', balanceCentavos, at };
      expect(parseCamt052(buildCamt052(h, c))).toMatchObject({ ok: true, value: { message: c } });
    }
  });

  test('a statement round-trips and one whose entries do not explain the balances is refused', () => {
    const h = header('00038166', '12345678');
    const s: Camt053 = {
      statementId: 'S12345678-20261125', accountIspb: '12345678',
      from: new Date('2026-11-25T00:00:00.000Z'), to: new Date('2026-11-26T00:00:00.000Z'),
      openingCentavos: 10_000n, closingCentavos: 10_000n + 2_500n - 700n,
      entries: [
        { reference: newEndToEndId('10000001', at), kind: 'PACS008', amountCentavos: 2_500n, direction: 'CRDT', bookedAt: at },
        { reference: newEndToEndId('12345678', at), kind: 'PACS008', amountCentavos: 700n, direction: 'DBIT', bookedAt: at },
      ],
    };
    const xml = buildCamt053(h, s);
    expect(parseCamt053(xml)).toMatchObject({ ok: true, value: { message: s } });
    expect(parseCamt053(xml.replace('>118.00<', '>118.01<'))).toMatchObject({ ok: false, error: { rule: 'balances' } });
    expect(parseCamt053(xml.replace('<NbOfNtries>1</NbOfNtries>', '<NbOfNtries>2</NbOfNtries>'))).toMatchObject({ ok: false, error: { rule: 'matches-entries' } });
    expect(() => buildCamt053(h, { ...s, closingCentavos: 1n })).toThrow();
  });
});

describe('signing', () => {
  test('each message signs on the fast path, verifies with our verifier and xmlsec1, and still parses', async () => {
    const pki = testPki();
    const signer = await createXmlSigner({ keyPem: pki.keyPem, certPem: pki.certPem, threads: 0 });
    try {
      const h = header();
      const docs = [
        buildPacs008(h, payment()),
        buildPacs002(h, { originalMsgId: newMsgId('10000001'), originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: newEndToEndId('10000001', at), status: 'ACSP' }),
        buildPacs004(h, { returnId: newReturnId('12345678', at), originalEndToEndId: newEndToEndId('10000001', at), amountCentavos: 1n, reason: 'BE08', returnerIspb: '12345678', receiverIspb: '10000001' }),
        buildCamt052(h, { reportId: 'R1', accountIspb: '12345678', balanceCentavos: 5n, at }),
      ];
      for (const doc of docs) {
        const signed = await signer.signSpi(doc);
        if (!signed.ok) throw new Error(signed.error.detail);
        expect(verifyXmlSignature(signed.value, { trustedCaPem: pki.caPem })).toMatchObject({ ok: true, value: { ispb: '12345678' } });
        expect(xmlsecVerify(signed.value)).toBe(true);
        const parsed = parseSpiMessage(signed.value);
        expect(parsed).toMatchObject({ ok: true, value: { signed: true, header: h } });
        expect(peekHeader(signed.value)).toMatchObject({ ok: true, value: { header: h, signed: true } });
      }
      expect(signer.stats).toEqual({ fast: docs.length, general: 0 });
    } finally {
      await signer.close();
    }
  });
});
