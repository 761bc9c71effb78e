// Parties, accounts and agents as pacs.008/pacs.004 carry them: the tax id under PrvtId (CPF, natural
// person) or OrgId (CNPJ, legal person), the account under Othr/Id with the branch as Issr, the PSP as
// the agent's ClrSysMmbId/MmbId (its ISPB).
import { parseIspb } from '../ids.ts';
import { el, type XmlElement } from '../xml/build.ts';
import { Reader, refuse } from './read.ts';

export const ACCOUNT_TYPES = ['CACC', 'SVGS', 'SLRY', 'TRAN'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** Max140Text in the catalog for names and free text */
export const NAME_LENGTH_MAX = 140;
export const CPF_RE = /^\d{11}$/;
/** numeric or alphanumeric CNPJ (PIX.md § Keys): 12 [0-9A-Z] then 2 check digits */
export const CNPJ_RE = /^[0-9A-Z]{12}\d{2}$/;
export const TAX_ID_RE = /^(\d{11}|[0-9A-Z]{12}\d{2})$/;
export const BRANCH_RE = /^\d{4}$/;
export const ACCOUNT_NUMBER_RE = /^\d{1,20}$/;

export interface SpiAccount {
  /** the PSP holding the account */
  ispb: string;
  /** 4 digits; payment accounts (TRAN) may have none */
  branch?: string;
  number: string;
  type: AccountType;
}

export interface SpiParty {
  name?: string;
  /** CPF (11 digits) or CNPJ (14) */
  taxId: string;
}

export function partyXml(tag: string, party: SpiParty): XmlElement {
  const idKind = CPF_RE.test(party.taxId) ? 'PrvtId' : 'OrgId';
  const children: XmlElement[] = [];
  if (party.name !== undefined) children.push(el('Nm', null, party.name));
  children.push(el('Id', null, el(idKind, null, el('Othr', null, el('Id', null, party.taxId)))));
  return el(tag, null, ...children);
}

export function accountXml(tag: string, account: SpiAccount, proxy?: string): XmlElement {
  const othr = [el('Id', null, account.number)];
  if (account.branch !== undefined) othr.push(el('Issr', null, account.branch));
  const children = [el('Id', null, el('Othr', null, ...othr)), el('Tp', null, el('Cd', null, account.type))];
  if (proxy !== undefined) children.push(el('Prxy', null, el('Id', null, proxy)));
  return el(tag, null, ...children);
}

export const agentXml = (tag: string, ispb: string) => el(tag, null, el('FinInstnId', null, el('ClrSysMmbId', null, el('MmbId', null, ispb))));

export function readParty(r: Reader, nameRequired: boolean): SpiParty {
  const name = nameRequired ? r.boundedText('Nm', NAME_LENGTH_MAX) : r.optBoundedText('Nm', NAME_LENGTH_MAX);
  const id = r.at('Id');
  const prvt = id.optAt('PrvtId');
  const org = id.optAt('OrgId');
  if ((prvt === undefined) === (org === undefined)) refuse(id.path, 'choice', 'must hold exactly one of PrvtId, OrgId');
  const taxId = prvt ? prvt.at('Othr').text('Id', CPF_RE) : org!.at('Othr').text('Id', CNPJ_RE);
  return name === undefined ? { taxId } : { name, taxId };
}

export function readAgent(r: Reader): string {
  return r.at('FinInstnId').at('ClrSysMmbId').id('MmbId', parseIspb);
}

export function readAccount(r: Reader, ispb: string): SpiAccount {
  const othr = r.at('Id').at('Othr');
  const number = othr.text('Id', ACCOUNT_NUMBER_RE);
  const branch = othr.optText('Issr', BRANCH_RE);
  const type = r.at('Tp').oneOf('Cd', ACCOUNT_TYPES);
  return branch === undefined ? { ispb, number, type } : { ispb, branch, number, type };
}
