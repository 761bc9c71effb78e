// pacs.002 FIToFIPaymentStatusReport, SPI profile: the answer to one pacs.008 or pacs.004.
//   receiver's PSP → SPI: ACSP (accepted, will credit) or RJCT + reason;
//   SPI → both PSPs:      ACSC (settled) or RJCT + reason (AB03 when the receiver did not answer in time).
import { parseEndToEndId, parseMsgId, parseReturnId } from '../ids.ts';
import type { Result } from '../result.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { buildEnvelope, groupHeader, msgDefIdrOf, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import { refuse, type Reader } from './read.ts';

export const PAYMENT_STATUSES = ['ACSP', 'ACSC', 'RJCT'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Reject reasons (ISO ExternalStatusReason1Code, SPI subset) and what each means here. */
export const REJECT_REASONS = {
  AB03: 'timeout: the receiving PSP did not answer within the deadline',
  AB09: 'the receiving PSP rejected the message (error at the addressee)',
  AC03: 'creditor account number invalid or unknown',
  AC06: 'creditor account blocked',
  AC07: 'creditor account closed',
  AG03: 'transaction type not supported for this account',
  AM02: 'amount above the allowed maximum',
  AM04: 'insufficient funds in the payer PSP PI account',
  AM05: 'duplicate: the EndToEndId (or ReturnId) was already used',
  AM09: 'wrong amount (e.g. a return above what is left of the original)',
  BE01: 'creditor tax id inconsistent with the account holder',
  DS04: 'the order was rejected by the bank side (generic)',
  DS0G: 'the signature on the message is missing or invalid',
  ED05: 'settlement failed',
  FF07: 'invalid message content (shape or identifiers)',
  RR04: 'regulatory reason',
  SL02: 'specific service offered by the creditor agent',
} as const;
export type RejectReason = keyof typeof REJECT_REASONS;
export const REJECT_REASON_CODES = Object.keys(REJECT_REASONS) as RejectReason[];
export const ADDITIONAL_INFO_LENGTH_MAX = 105;

export interface Pacs002 {
  /** MsgId of the message this reports on (the pacs.008 or pacs.004) */
  originalMsgId: string;
  /** its MsgDefIdr (OrgnlMsgNmId) */
  originalMsgNmId: string;
  /** the EndToEndId (pacs.008) or ReturnId (pacs.004) */
  originalEndToEndId: string;
  status: PaymentStatus;
  /** present exactly when status is RJCT */
  reason?: RejectReason;
  additionalInfo?: string;
  /** FctvIntrBkSttlmDt/DtTm: when SPI settled (ACSC) */
  settledAt?: Date;
}

export function pacs002Xml(header: AppHdr, s: Pacs002): XmlElement {
  const tx: XmlElement[] = [el('OrgnlEndToEndId', null, s.originalEndToEndId), el('TxSts', null, s.status)];
  if (s.reason !== undefined) {
    const rsn = [el('Rsn', null, el('Cd', null, s.reason))];
    if (s.additionalInfo !== undefined) rsn.push(el('AddtlInf', null, s.additionalInfo));
    tx.push(el('StsRsnInf', null, ...rsn));
  }
  if (s.settledAt !== undefined) tx.push(el('FctvIntrBkSttlmDt', null, el('DtTm', null, s.settledAt.toISOString())));
  return el('FIToFIPmtStsRpt', null,
    groupHeader(header),
    el('OrgnlGrpInfAndSts', null, el('OrgnlMsgId', null, s.originalMsgId), el('OrgnlMsgNmId', null, s.originalMsgNmId)),
    el('TxInfAndSts', null, ...tx));
}

export function buildPacs002(header: AppHdr, s: Pacs002): string {
  // a report that contradicts itself is a bug in the caller
  if ((s.status === 'RJCT') !== (s.reason !== undefined)) throw new Error('pacs.002: a reason goes with RJCT and only with RJCT');
  return buildEnvelope('pacs.002', header, pacs002Xml(header, s));
}

const ORIGINAL_MSG_NM_IDS = [msgDefIdrOf('pacs.008'), msgDefIdrOf('pacs.004')];

export function readPacs002(body: Reader): Pacs002 {
  const orgnl = body.at('OrgnlGrpInfAndSts');
  const originalMsgNmId = orgnl.oneOf('OrgnlMsgNmId', ORIGINAL_MSG_NM_IDS);
  const tx = body.at('TxInfAndSts');
  const isReturn = originalMsgNmId === msgDefIdrOf('pacs.004');
  const s: Pacs002 = {
    originalMsgId: orgnl.id('OrgnlMsgId', parseMsgId),
    originalMsgNmId,
    originalEndToEndId: tx.id('OrgnlEndToEndId', isReturn ? parseReturnId : parseEndToEndId),
    status: tx.oneOf('TxSts', PAYMENT_STATUSES),
  };
  const rsnInf = tx.optAt('StsRsnInf');
  if (s.status === 'RJCT' && !rsnInf) refuse(`${tx.path}.StsRsnInf`, 'required', 'a rejection carries its reason');
  if (s.status !== 'RJCT' && rsnInf) refuse(`${tx.path}.StsRsnInf`, 'forbidden', `a ${s.status} report carries no reason`);
  if (rsnInf) {
    s.reason = rsnInf.at('Rsn').oneOf('Cd', REJECT_REASON_CODES);
    const info = rsnInf.optBoundedText('AddtlInf', ADDITIONAL_INFO_LENGTH_MAX);
    if (info !== undefined) s.additionalInfo = info;
  }
  const settled = tx.optAt('FctvIntrBkSttlmDt')?.dateTime('DtTm');
  if (settled !== undefined) s.settledAt = settled;
  return s;
}

export function parsePacs002(xml: string): Result<SpiEnvelope<Pacs002>> {
  return parseEnvelopeOf(xml, 'pacs.002', readPacs002);
}
