// pacs.008 FIToFICustomerCreditTransfer, SPI profile: one payment per message (NbOfTxs 1), settled gross
// by clearing (SttlmMtd CLRG), charges SLEV. Builder → canonical XML for signSpi; parser → Result.
import { formatAmount } from '../money.ts';
import { parseEndToEndId } from '../ids.ts';
import type { Result } from '../result.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { buildEnvelope, groupHeader, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import { accountXml, agentXml, partyXml, readAccount, readAgent, readParty, type SpiAccount, type SpiParty } from './party.ts';
import { refuse, type Reader } from './read.ts';

/** How the payer started the payment (MndtRltdInf/Tp/LclInstrm/Prtry). */
export const INITIATION_FORMS = ['MANU', 'DICT', 'QRES', 'QRDN', 'INIC'] as const;
export type InitiationForm = (typeof INITIATION_FORMS)[number];
export const PRIORITIES = ['HIGH', 'NORM'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** txid (PIX.md § Participants): up to 35 [a-zA-Z0-9]; dynamic charges use 26–35 */
export const TXID_RE = /^[a-zA-Z0-9]{1,35}$/;
/** a DICT key as it travels in Prxy/Id (Max77Text: the longest key is a 77-char email) */
export const PROXY_LENGTH_MAX = 77;
export const REMITTANCE_LENGTH_MAX = 140;

export interface Pacs008 {
  endToEndId: string;
  amountCentavos: bigint;
  /** AccptncDtTm: when the payer's PSP accepted the order; SPI deadlines count from it */
  acceptedAt: Date;
  initiationForm: InitiationForm;
  priority: Priority;
  debtor: SpiParty & { name: string };
  debtorAccount: SpiAccount;
  creditor: SpiParty;
  creditorAccount: SpiAccount;
  /** the DICT key the payment was addressed to (CdtrAcct/Prxy/Id) */
  key?: string;
  /** the charge's txid (PmtId/TxId) for QR payments */
  txid?: string;
  /** RmtInf/Ustrd, shown to the payee */
  remittanceInfo?: string;
}

// SvcLvl/Prtry: PAGPRI for a payment to settle now (HIGH), PAGAGD for a scheduled one (NORM)
const SERVICE_LEVEL: Record<Priority, string> = { HIGH: 'PAGPRI', NORM: 'PAGAGD' };

export function pacs008Xml(header: AppHdr, p: Pacs008): XmlElement {
  const pmtId = [el('EndToEndId', null, p.endToEndId)];
  if (p.txid !== undefined) pmtId.push(el('TxId', null, p.txid));
  const tx: XmlElement[] = [
    el('PmtId', null, ...pmtId),
    el('IntrBkSttlmAmt', { Ccy: 'BRL' }, formatAmount(p.amountCentavos)),
    el('AccptncDtTm', null, p.acceptedAt.toISOString()),
    el('ChrgBr', null, 'SLEV'),
    el('MndtRltdInf', null, el('Tp', null, el('LclInstrm', null, el('Prtry', null, p.initiationForm)))),
    partyXml('Dbtr', p.debtor),
    accountXml('DbtrAcct', p.debtorAccount),
    agentXml('DbtrAgt', p.debtorAccount.ispb),
    agentXml('CdtrAgt', p.creditorAccount.ispb),
    partyXml('Cdtr', p.creditor),
    accountXml('CdtrAcct', p.creditorAccount, p.key),
  ];
  if (p.remittanceInfo !== undefined) tx.push(el('RmtInf', null, el('Ustrd', null, p.remittanceInfo)));
  return el('FIToFICstmrCdtTrf', null,
    groupHeader(header, el('NbOfTxs', null, '1'), el('SttlmInf', null, el('SttlmMtd', null, 'CLRG')),
      el('PmtTpInf', null, el('InstrPrty', null, p.priority), el('SvcLvl', null, el('Prtry', null, SERVICE_LEVEL[p.priority])))),
    el('CdtTrfTxInf', null, ...tx));
}

/** Unsigned canonical pacs.008 envelope; sign it with signer.signSpi. */
export function buildPacs008(header: AppHdr, p: Pacs008): string {
  return buildEnvelope('pacs.008', header, pacs008Xml(header, p));
}

export function readPacs008(body: Reader, header: AppHdr): Pacs008 {
  const grp = body.at('GrpHdr');
  if (grp.text('NbOfTxs') !== '1') refuse(`${grp.path}.NbOfTxs`, 'single-transaction', 'SPI carries exactly one payment per pacs.008');
  if (grp.at('SttlmInf').text('SttlmMtd') !== 'CLRG') refuse(`${grp.path}.SttlmInf.SttlmMtd`, 'enum', 'must be CLRG');
  const priority = grp.at('PmtTpInf').oneOf('InstrPrty', PRIORITIES);
  const tx = body.at('CdtTrfTxInf');
  const pmtId = tx.at('PmtId');
  const endToEndId = pmtId.id('EndToEndId', parseEndToEndId);
  const debtorAgent = readAgent(tx.at('DbtrAgt'));
  // the payer's PSP makes the EndToEndId (E + its ISPB …) and must be the one sending the message
  if (endToEndId.slice(1, 9) !== debtorAgent) refuse(`${pmtId.path}.EndToEndId`, 'issuer', 'must carry the ISPB of the debtor agent');
  if (header.from !== debtorAgent) refuse(`${tx.path}.DbtrAgt`, 'matches-sender', 'the debtor agent must be the sender (AppHdr/Fr)');
  if (tx.text('ChrgBr') !== 'SLEV') refuse(`${tx.path}.ChrgBr`, 'enum', 'must be SLEV');
  const cdtrAcct = tx.at('CdtrAcct');
  const creditorAgent = readAgent(tx.at('CdtrAgt'));
  const p: Pacs008 = {
    endToEndId,
    amountCentavos: tx.amount('IntrBkSttlmAmt'),
    acceptedAt: tx.dateTime('AccptncDtTm'),
    initiationForm: tx.at('MndtRltdInf').at('Tp').at('LclInstrm').oneOf('Prtry', INITIATION_FORMS),
    priority,
    debtor: readParty(tx.at('Dbtr'), true) as SpiParty & { name: string },
    debtorAccount: readAccount(tx.at('DbtrAcct'), debtorAgent),
    creditor: readParty(tx.at('Cdtr'), false),
    creditorAccount: readAccount(cdtrAcct, creditorAgent),
  };
  const key = cdtrAcct.optAt('Prxy')?.optBoundedText('Id', PROXY_LENGTH_MAX);
  if (key !== undefined) p.key = key;
  const txid = pmtId.optText('TxId', TXID_RE);
  if (txid !== undefined) p.txid = txid;
  const ustrd = tx.optAt('RmtInf')?.optBoundedText('Ustrd', REMITTANCE_LENGTH_MAX);
  if (ustrd !== undefined) p.remittanceInfo = ustrd;
  // catalog rules on the initiation form: a key-addressed or QR payment names the key; MANU does not;
  // a dynamic QR payment carries the charge's txid
  if (['DICT', 'QRES', 'QRDN'].includes(p.initiationForm) && key === undefined) refuse(`${cdtrAcct.path}.Prxy`, 'required', `is required when the initiation form is ${p.initiationForm}`);
  if (p.initiationForm === 'MANU' && key !== undefined) refuse(`${cdtrAcct.path}.Prxy`, 'forbidden', 'must be absent when the initiation form is MANU');
  if (p.initiationForm === 'QRDN' && txid === undefined) refuse(`${pmtId.path}.TxId`, 'required', 'is required for a dynamic QR payment (QRDN)');
  return p;
}

export function parsePacs008(xml: string): Result<SpiEnvelope<Pacs008>> {
  return parseEnvelopeOf(xml, 'pacs.008', readPacs008);
}
