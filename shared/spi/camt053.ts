// camt.053 BankToCustomerStatement: the end-of-day statement of a participant's PI account: opening and
// closing booked balances and every entry in between (payments, returns, STR transfers). The parser
// checks that the entries explain the difference (opening + credits − debits = closing): a statement
// that does not balance is refused, never half-trusted.
import { parseIspb } from '../ids.ts';
import type { Result } from '../result.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { accountIdXml, amountXml, balanceXml, CREDIT_DEBIT, readBalance, readUnsignedAmount, type CreditDebit } from './balance.ts';
import { buildEnvelope, groupHeader, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import { refuse, type Reader } from './read.ts';

export const STATEMENT_ID_LENGTH_MAX = 35;
export const ENTRY_REFERENCE_LENGTH_MAX = 35;
/** a day of a participant's traffic fits: 10 M entries is far above any PSP's daily volume here */
export const STATEMENT_ENTRIES_MAX = 10_000_000;
/** what moved the money (BkTxCd/Prtry/Cd) */
export const ENTRY_KINDS = ['PACS008', 'PACS004', 'STR'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export interface StatementEntry {
  /** EndToEndId (PACS008), ReturnId (PACS004) or the STR transfer id */
  reference: string;
  kind: EntryKind;
  /** > 0; the direction says which way */
  amountCentavos: bigint;
  direction: CreditDebit;
  bookedAt: Date;
}

export interface Camt053 {
  statementId: string;
  accountIspb: string;
  from: Date;
  to: Date;
  openingCentavos: bigint;
  closingCentavos: bigint;
  entries: StatementEntry[];
}

const entryXml = (e: StatementEntry) =>
  el('Ntry', null,
    amountXml('Amt', e.amountCentavos),
    el('CdtDbtInd', null, e.direction),
    el('Sts', null, el('Cd', null, 'BOOK')),
    el('BookgDt', null, el('DtTm', null, e.bookedAt.toISOString())),
    el('BkTxCd', null, el('Prtry', null, el('Cd', null, e.kind))),
    el('NtryDtls', null, el('TxDtls', null, el('Refs', null, el('EndToEndId', null, e.reference)))));

export function camt053Xml(header: AppHdr, s: Camt053): XmlElement {
  let credits = 0n;
  let debits = 0n;
  for (const e of s.entries) {
    if (e.direction === 'CRDT') credits += e.amountCentavos;
    else debits += e.amountCentavos;
  }
  // a statement that does not balance is a bug in whoever assembled it
  if (s.openingCentavos + credits - debits !== s.closingCentavos) throw new Error('camt.053: opening + credits - debits != closing');
  const count = (dir: CreditDebit) => String(s.entries.filter((e) => e.direction === dir).length);
  return el('BkToCstmrStmt', null,
    groupHeader(header),
    el('Stmt', null,
      el('Id', null, s.statementId),
      el('CreDtTm', null, header.creDt.toISOString()),
      el('FrToDt', null, el('FrDtTm', null, s.from.toISOString()), el('ToDtTm', null, s.to.toISOString())),
      accountIdXml(s.accountIspb),
      balanceXml({ type: 'OPBD', centavos: s.openingCentavos, at: s.from }),
      balanceXml({ type: 'CLBD', centavos: s.closingCentavos, at: s.to }),
      el('TxsSummry', null,
        el('TtlCdtNtries', null, el('NbOfNtries', null, count('CRDT')), amountXml('Sum', credits)),
        el('TtlDbtNtries', null, el('NbOfNtries', null, count('DBIT')), amountXml('Sum', debits))),
      ...s.entries.map(entryXml)));
}

export function buildCamt053(header: AppHdr, s: Camt053): string {
  return buildEnvelope('camt.053', header, camt053Xml(header, s));
}

function readEntry(r: Reader): StatementEntry {
  const amountCentavos = readUnsignedAmount(r, 'Amt');
  if (amountCentavos === 0n) refuse(`${r.path}.Amt`, 'minimum', 'an entry moves a positive amount');
  if (r.at('Sts').text('Cd') !== 'BOOK') refuse(`${r.path}.Sts.Cd`, 'enum', 'statement entries are booked (BOOK)');
  return {
    reference: r.at('NtryDtls').at('TxDtls').at('Refs').boundedText('EndToEndId', ENTRY_REFERENCE_LENGTH_MAX),
    kind: r.at('BkTxCd').at('Prtry').oneOf('Cd', ENTRY_KINDS),
    amountCentavos,
    direction: r.oneOf('CdtDbtInd', CREDIT_DEBIT),
    bookedAt: r.at('BookgDt').dateTime('DtTm'),
  };
}

export function readCamt053(body: Reader): Camt053 {
  const stmt = body.at('Stmt');
  const balances = stmt.all('Bal').map(readBalance);
  const opening = balances.find((b) => b.type === 'OPBD');
  const closing = balances.find((b) => b.type === 'CLBD');
  if (!opening || !closing || balances.length !== 2) refuse(`${stmt.path}.Bal`, 'required', 'a statement has exactly one OPBD and one CLBD balance');
  const entries = stmt.all('Ntry');
  if (entries.length > STATEMENT_ENTRIES_MAX) refuse(`${stmt.path}.Ntry`, 'max-occurs', `more than ${STATEMENT_ENTRIES_MAX} entries`);
  const s: Camt053 = {
    statementId: stmt.boundedText('Id', STATEMENT_ID_LENGTH_MAX),
    accountIspb: stmt.at('Acct').at('Id').at('Othr').id('Id', parseIspb),
    from: stmt.at('FrToDt').dateTime('FrDtTm'),
    to: stmt.at('FrToDt').dateTime('ToDtTm'),
    openingCentavos: opening.centavos,
    closingCentavos: closing.centavos,
    entries: entries.map(readEntry),
  };
  if (s.from.getTime() > s.to.getTime()) refuse(`${stmt.path}.FrToDt`, 'order', 'FrDtTm is after ToDtTm');
  const summary = stmt.at('TxsSummry');
  for (const [tag, dir] of [['TtlCdtNtries', 'CRDT'], ['TtlDbtNtries', 'DBIT']] as const) {
    const t = summary.at(tag);
    const mine = s.entries.filter((e) => e.direction === dir);
    const sum = mine.reduce((a, e) => a + e.amountCentavos, 0n);
    if (t.text('NbOfNtries', /^\d+$/) !== String(mine.length)) refuse(`${t.path}.NbOfNtries`, 'matches-entries', 'does not count the entries');
    if (readUnsignedAmount(t, 'Sum') !== sum) refuse(`${t.path}.Sum`, 'matches-entries', 'does not add up the entries');
  }
  let net = 0n;
  for (const e of s.entries) net += e.direction === 'CRDT' ? e.amountCentavos : -e.amountCentavos;
  if (s.openingCentavos + net !== s.closingCentavos) refuse(`${stmt.path}.Bal`, 'balances', 'opening + credits − debits does not equal closing');
  return s;
}

export function parseCamt053(xml: string): Result<SpiEnvelope<Camt053>> {
  return parseEnvelopeOf(xml, 'camt.053', readCamt053);
}
