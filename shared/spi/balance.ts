// Balances in camt.052/053: `<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="BRL">0.00</Amt>
// <CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>…</DtTm></Dt></Bal>`. Unlike a payment amount a balance may be zero,
// and its sign travels in CdtDbtInd (the amount itself is never negative on the wire).
import { formatAmount } from '../money.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { refuse, type Reader } from './read.ts';

export const BALANCE_TYPES = ['OPBD', 'CLBD', 'ITBD', 'CLAV'] as const;
export type BalanceType = (typeof BALANCE_TYPES)[number];
export const CREDIT_DEBIT = ['CRDT', 'DBIT'] as const;
export type CreditDebit = (typeof CREDIT_DEBIT)[number];

const BALANCE_WIRE_RE = /^(0|[1-9]\d{0,17})\.\d{2}$/;

export interface Balance {
  type: BalanceType;
  /** signed: negative is a debit balance */
  centavos: bigint;
  at: Date;
}

export function amountXml(tag: string, centavos: bigint): XmlElement {
  return el(tag, { Ccy: 'BRL' }, formatAmount(centavos < 0n ? -centavos : centavos));
}

export function balanceXml(b: Balance): XmlElement {
  return el('Bal', null,
    el('Tp', null, el('CdOrPrtry', null, el('Cd', null, b.type))),
    amountXml('Amt', b.centavos),
    el('CdtDbtInd', null, b.centavos < 0n ? 'DBIT' : 'CRDT'),
    el('Dt', null, el('DtTm', null, b.at.toISOString())));
}

/** Unsigned amount (zero allowed) in `<tag Ccy="BRL">`. */
export function readUnsignedAmount(r: Reader, name: string): bigint {
  const field = `${r.path}.${name}`;
  const node = r.node[name];
  if (typeof node !== 'object' || node === null || Array.isArray(node)) refuse(field, 'required', 'is missing');
  const n = node as Record<string, unknown>;
  if (n['@Ccy'] !== 'BRL') refuse(field, 'currency', 'must carry Ccy="BRL"');
  const text = n['#text'];
  if (typeof text !== 'string' || !BALANCE_WIRE_RE.test(text)) refuse(field, 'format', 'must be an amount with exactly two decimals');
  return BigInt(text.replace('.', ''));
}

export function readBalance(r: Reader): Balance {
  const centavos = readUnsignedAmount(r, 'Amt');
  const sign = r.oneOf('CdtDbtInd', CREDIT_DEBIT);
  return { type: r.at('Tp').at('CdOrPrtry').oneOf('Cd', BALANCE_TYPES), centavos: sign === 'DBIT' ? -centavos : centavos, at: r.at('Dt').dateTime('DtTm') };
}

export const accountIdXml = (ispb: string) => el('Acct', null, el('Id', null, el('Othr', null, el('Id', null, ispb))));
