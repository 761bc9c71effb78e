// camt.052 BankToCustomerAccountReport: the balance of a participant's PI account at one instant, which SPI
// sends on request. One report, one account, one interim booked balance (ITBD).
import { parseIspb } from '../ids.ts';
import type { Result } from '../result.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { accountIdXml, balanceXml, readBalance } from './balance.ts';
import { buildEnvelope, groupHeader, parseEnvelopeOf, type AppHdr, type SpiEnvelope } from './envelope.ts';
import { refuse, type Reader } from './read.ts';

export const REPORT_ID_LENGTH_MAX = 35;

export interface Camt052 {
  reportId: string;
  /** the PI account is identified by its owner's ISPB */
  accountIspb: string;
  /** signed centavos; a PI account never goes negative, but the format can say so */
  balanceCentavos: bigint;
  /** the instant the balance was read */
  at: Date;
}

export function camt052Xml(header: AppHdr, c: Camt052): XmlElement {
  return el('BkToCstmrAcctRpt', null,
    groupHeader(header),
    el('Rpt', null,
      el('Id', null, c.reportId),
      el('CreDtTm', null, c.at.toISOString()),
      accountIdXml(c.accountIspb),
      balanceXml({ type: 'ITBD', centavos: c.balanceCentavos, at: c.at })));
}

export function buildCamt052(header: AppHdr, c: Camt052): string {
  return buildEnvelope('camt.052', header, camt052Xml(header, c));
}

export function readCamt052(body: Reader): Camt052 {
  const rpt = body.at('Rpt');
  const bal = readBalance(rpt.at('Bal'));
  if (bal.type !== 'ITBD') refuse(`${rpt.path}.Bal.Tp.CdOrPrtry.Cd`, 'enum', 'a camt.052 balance is ITBD');
  const at = rpt.dateTime('CreDtTm');
  if (bal.at.getTime() !== at.getTime()) refuse(`${rpt.path}.Bal.Dt.DtTm`, 'matches-report', 'must equal Rpt/CreDtTm');
  return {
    reportId: rpt.boundedText('Id', REPORT_ID_LENGTH_MAX),
    accountIspb: rpt.at('Acct').at('Id').at('Othr').id('Id', parseIspb),
    balanceCentavos: bal.centavos,
    at,
  };
}

export function parseCamt052(xml: string): Result<SpiEnvelope<Camt052>> {
  return parseEnvelopeOf(xml, 'camt.052', readCamt052);
}
