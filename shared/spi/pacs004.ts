// pacs.004 PaymentReturn, SPI profile: the payee's PSP gives back all or part of a settled payment. The
// money flows the other way: the returning PSP (the original creditor agent) is debited, the original
// debtor agent credited. The sum of returns of one EndToEndId never exceeds the original amount
// (payment-states.ts returnable()).
import { formatAmount } from '../money.ts';
import { parseEndToEndId, parseReturnId } from '../ids.ts';
import type { Result } from '../result.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { buildEnvelope, groupHeader, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import { agentXml, readAgent } from './party.ts';
import { refuse, type Reader } from './read.ts';

/** Return reasons (PIX.md § SPI messages). */
export const RETURN_REASONS = {
  BE08: 'error by the payer (bank error / wrong payment)',
  FR01: 'fraud (MED refund)',
  MD06: 'refund requested by the end customer',
  SL02: 'specific service offered by the creditor agent (withdrawal/change)',
} as const;
export type ReturnReason = keyof typeof RETURN_REASONS;
export const RETURN_REASON_CODES = Object.keys(RETURN_REASONS) as ReturnReason[];
export const RETURN_INFO_LENGTH_MAX = 105;

export interface Pacs004 {
  returnId: string;
  originalEndToEndId: string;
  amountCentavos: bigint;
  reason: ReturnReason;
  additionalInfo?: string;
  /** the PSP that gives the money back (the original payment's creditor agent; sends this message) */
  returnerIspb: string;
  /** the PSP that receives it (the original payment's debtor agent) */
  receiverIspb: string;
}

export function pacs004Xml(header: AppHdr, r: Pacs004): XmlElement {
  const rsn = [el('Rsn', null, el('Cd', null, r.reason))];
  if (r.additionalInfo !== undefined) rsn.push(el('AddtlInf', null, r.additionalInfo));
  return el('PmtRtr', null,
    groupHeader(header, el('NbOfTxs', null, '1'), el('SttlmInf', null, el('SttlmMtd', null, 'CLRG'))),
    el('TxInf', null,
      el('RtrId', null, r.returnId),
      el('OrgnlEndToEndId', null, r.originalEndToEndId),
      el('RtrdIntrBkSttlmAmt', { Ccy: 'BRL' }, formatAmount(r.amountCentavos)),
      el('ChrgBr', null, 'SLEV'),
      el('RtrRsnInf', null, ...rsn),
      // in the return the roles swap: the original creditor agent is the one paying now
      el('OrgnlTxRef', null, agentXml('DbtrAgt', r.returnerIspb), agentXml('CdtrAgt', r.receiverIspb))));
}

export function buildPacs004(header: AppHdr, r: Pacs004): string {
  return buildEnvelope('pacs.004', header, pacs004Xml(header, r));
}

export function readPacs004(body: Reader, header: AppHdr): Pacs004 {
  const grp = body.at('GrpHdr');
  if (grp.text('NbOfTxs') !== '1') refuse(`${grp.path}.NbOfTxs`, 'single-transaction', 'SPI carries exactly one return per pacs.004');
  const tx = body.at('TxInf');
  const returnId = tx.id('RtrId', parseReturnId);
  const ref = tx.at('OrgnlTxRef');
  const returnerIspb = readAgent(ref.at('DbtrAgt'));
  if (returnId.slice(1, 9) !== returnerIspb) refuse(`${tx.path}.RtrId`, 'issuer', 'must carry the ISPB of the returning PSP');
  if (header.from !== returnerIspb) refuse(`${ref.path}.DbtrAgt`, 'matches-sender', 'the returning PSP must be the sender (AppHdr/Fr)');
  const rsn = tx.at('RtrRsnInf');
  const r: Pacs004 = {
    returnId,
    originalEndToEndId: tx.id('OrgnlEndToEndId', parseEndToEndId),
    amountCentavos: tx.amount('RtrdIntrBkSttlmAmt'),
    reason: rsn.at('Rsn').oneOf('Cd', RETURN_REASON_CODES),
    returnerIspb,
    receiverIspb: readAgent(ref.at('CdtrAgt')),
  };
  const info = rsn.optBoundedText('AddtlInf', RETURN_INFO_LENGTH_MAX);
  if (info !== undefined) r.additionalInfo = info;
  // the original payment's payer PSP made its EndToEndId: the return goes back to it
  if (r.originalEndToEndId.slice(1, 9) !== r.receiverIspb) refuse(`${ref.path}.CdtrAgt`, 'matches-original', 'must be the PSP that issued the original EndToEndId');
  return r;
}

export function parsePacs004(xml: string): Result<SpiEnvelope<Pacs004>> {
  return parseEnvelopeOf(xml, 'pacs.004', readPacs004);
}
