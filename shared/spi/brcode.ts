// BR Code (the Pix QR), EMV merchant-presented TLV (PIX.md § BR Code): each field is a 2-digit id, a
// 2-digit length and the value; tag 63 closes the code with CRC16-CCITT-FALSE over everything before it,
// "6304" included. Static codes carry the key (26/01) and optionally amount and txid (62/05, ≤ 25 or
// `***`); dynamic ones carry a payload URL without scheme (26/25) whose JWS holds the charge (jws.ts).
// Parsing refuses, with the field and the rule, anything the manual does not allow.
import { formatAmount } from '../money.ts';
import { fail, ok, type Result } from '../result.ts';

export const PIX_GUI = 'br.gov.bcb.pix';
export const MERCHANT_NAME_LENGTH_MAX = 25;
export const MERCHANT_CITY_LENGTH_MAX = 15;
export const STATIC_TXID_LENGTH_MAX = 25;
/** EMV caps every value at 99 characters (two length digits) */
export const TLV_VALUE_LENGTH_MAX = 99;
/** tag 54: up to 13 characters, "." as decimal separator */
export const AMOUNT_LENGTH_MAX = 13;
/** a BR Code longer than this cannot be a valid one: 00..63 with every field at its maximum stays below it */
export const BRCODE_LENGTH_MAX = 512;
export const NO_TXID = '***';

const STATIC_TXID_RE = /^[a-zA-Z0-9]{1,25}$/;
const AMOUNT_RE = /^(0|[1-9]\d*)\.\d{2}$/;
/** the manual restricts the visible fields to printable ASCII (no accents: readers differ on them) */
const PRINTABLE_RE = /^[\x20-\x7E]+$/;

export interface StaticBrCode {
  kind: 'static';
  key: string;
  amountCentavos?: bigint;
  name: string;
  city: string;
  /** ≤ 25 [a-zA-Z0-9], or `***` when the payer may pay without one */
  txid: string;
  /** 26/02: free text shown to the payer */
  info?: string;
}

export interface DynamicBrCode {
  kind: 'dynamic';
  /** payload location without scheme (`pix.example.com/qr/v2/…`), fetched over https */
  url: string;
  amountCentavos?: bigint;
  name: string;
  city: string;
}

export type BrCode = StaticBrCode | DynamicBrCode;

/** CRC16-CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor; 4 uppercase hex digits. */
export function crc16(text: string): string {
  let crc = 0xffff;
  const bytes = Buffer.from(text, 'utf8');
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

const tlv = (id: string, value: string) => `${id}${String(value.length).padStart(2, '0')}${value}`;

function checkText(value: string, field: string, lengthMax: number): Result<void> {
  if (value.length === 0) return fail('InvalidRequest', `${field} is empty`, field, 'required');
  if (value.length > lengthMax) return fail('InvalidRequest', `${field} is longer than ${lengthMax} characters`, field, 'max-length');
  if (!PRINTABLE_RE.test(value)) return fail('InvalidRequest', `${field} must be printable ASCII (no accents)`, field, 'charset');
  return ok(undefined);
}

function checkCommon(c: BrCode): Result<void> {
  const name = checkText(c.name, 'name', MERCHANT_NAME_LENGTH_MAX);
  if (!name.ok) return name;
  const city = checkText(c.city, 'city', MERCHANT_CITY_LENGTH_MAX);
  if (!city.ok) return city;
  if (c.amountCentavos !== undefined) {
    if (c.amountCentavos <= 0n) return fail('InvalidRequest', 'amount must be greater than zero', 'amount', 'minimum');
    if (formatAmount(c.amountCentavos).length > AMOUNT_LENGTH_MAX) return fail('InvalidRequest', `amount has more than ${AMOUNT_LENGTH_MAX} characters`, 'amount', 'max-length');
  }
  if (c.kind === 'static') {
    if (c.txid !== NO_TXID && !STATIC_TXID_RE.test(c.txid)) return fail('InvalidRequest', `txid must be 1–${STATIC_TXID_LENGTH_MAX} [a-zA-Z0-9] or ***`, 'txid', 'format');
    const key = checkText(c.key, 'key', 77);
    if (!key.ok) return key;
    if (c.info !== undefined) {
      const info = checkText(c.info, 'info', TLV_VALUE_LENGTH_MAX);
      if (!info.ok) return info;
    }
  } else {
    const url = checkText(c.url, 'url', 77);
    if (!url.ok) return url;
    if (/^[a-z]+:\/\//i.test(c.url)) return fail('InvalidRequest', 'url is written without its scheme', 'url', 'no-scheme');
  }
  return ok(undefined);
}

/** The code as the payer's app reads it; refused when any field breaks the manual. */
export function makeBrCode(c: BrCode): Result<string> {
  const valid = checkCommon(c);
  if (!valid.ok) return valid;
  const account = c.kind === 'static'
    ? tlv('00', PIX_GUI) + tlv('01', c.key) + (c.info !== undefined ? tlv('02', c.info) : '')
    : tlv('00', PIX_GUI) + tlv('25', c.url);
  if (account.length > TLV_VALUE_LENGTH_MAX) return fail('InvalidRequest', 'key, url and info together exceed the 99 characters of field 26', c.kind === 'static' ? 'key' : 'url', 'max-length');
  const body =
    tlv('00', '01') +
    (c.kind === 'dynamic' ? tlv('01', '12') : '') +
    tlv('26', account) +
    tlv('52', '0000') +
    tlv('53', '986') +
    (c.amountCentavos !== undefined ? tlv('54', formatAmount(c.amountCentavos)) : '') +
    tlv('58', 'BR') +
    tlv('59', c.name) +
    tlv('60', c.city) +
    tlv('62', tlv('05', c.kind === 'static' ? c.txid : NO_TXID)) +
    '6304';
  return ok(body + crc16(body));
}

interface Field {
  id: string;
  value: string;
}

function readTlv(text: string, where: string): Result<Field[]> {
  const out: Field[] = [];
  let i = 0;
  while (i < text.length) {
    if (i + 4 > text.length) return fail('InvalidRequest', `${where}: truncated field header at ${i}`, where, 'truncated');
    const id = text.slice(i, i + 2);
    const lenText = text.slice(i + 2, i + 4);
    if (!/^\d{2}$/.test(id) || !/^\d{2}$/.test(lenText)) return fail('InvalidRequest', `${where}: malformed field header at ${i}`, where, 'tlv');
    const len = Number(lenText);
    if (len === 0) return fail('InvalidRequest', `${where}: field ${id} is empty`, `${where}.${id}`, 'required');
    if (i + 4 + len > text.length) return fail('InvalidRequest', `${where}: field ${id} is truncated`, `${where}.${id}`, 'truncated');
    if (out.some((f) => f.id === id)) return fail('InvalidRequest', `${where}: field ${id} occurs twice`, `${where}.${id}`, 'duplicate');
    out.push({ id, value: text.slice(i + 4, i + 4 + len) });
    i += 4 + len;
  }
  return ok(out);
}

const FIELD_NAMES: Record<string, string> = { '26': 'merchantAccount', '52': 'mcc', '53': 'currency', '54': 'amount', '58': 'country', '59': 'name', '60': 'city', '62': 'additionalData' };
/** top-level ids the manual defines for Pix (61 postal code, 64 language template, 80–99 unreserved) */
const KNOWN_TOP = new Set(['00', '01', '26', '52', '53', '54', '58', '59', '60', '61', '62', '63', '64']);

/** A BR Code's fields, after checking CRC, structure, mandatory fields and each value's rule. */
export function parseBrCode(code: string): Result<BrCode> {
  if (typeof code !== 'string' || code.length === 0) return fail('InvalidRequest', 'the code is empty', 'code', 'required');
  if (code.length > BRCODE_LENGTH_MAX) return fail('InvalidRequest', `the code is longer than ${BRCODE_LENGTH_MAX} characters`, 'code', 'max-length');
  if (!/^[\x20-\x7E]+$/.test(code)) return fail('InvalidRequest', 'the code must be printable ASCII', 'code', 'charset');
  const fields = readTlv(code, 'code');
  if (!fields.ok) return fields;
  const list = fields.value;
  if (list[0]?.id !== '00' || list[0].value !== '01') return fail('InvalidRequest', 'the code must start with 000201 (payload format 01)', '00', 'payload-format');
  const last = list[list.length - 1];
  if (last?.id !== '63' || last.value.length !== 4) return fail('InvalidRequest', 'the code must end with the CRC field 6304XXXX', '63', 'required');
  const expected = crc16(code.slice(0, -4));
  if (last.value !== expected) return fail('InvalidRequest', `CRC mismatch: the code says ${last.value}, its content gives ${expected}`, '63', 'crc');
  const f = new Map(list.map((x) => [x.id, x.value]));
  for (const { id } of list) {
    if (!KNOWN_TOP.has(id) && !(Number(id) >= 80 && Number(id) <= 99)) return fail('InvalidRequest', `field ${id} is not defined for a Pix BR Code`, id, 'unknown-field');
  }
  for (const [id, value] of [['52', '0000'], ['53', '986'], ['58', 'BR']] as const) {
    const v = f.get(id);
    if (v === undefined) return fail('InvalidRequest', `mandatory field ${id} (${FIELD_NAMES[id]}) is missing`, id, 'required');
    if (v !== value) return fail('InvalidRequest', `field ${id} (${FIELD_NAMES[id]}) must be ${value}`, id, 'value');
  }
  for (const id of ['26', '59', '60', '62']) {
    if (!f.has(id)) return fail('InvalidRequest', `mandatory field ${id} (${FIELD_NAMES[id]}) is missing`, id, 'required');
  }
  const pointOfInitiation = f.get('01');
  if (pointOfInitiation !== undefined && pointOfInitiation !== '11' && pointOfInitiation !== '12') return fail('InvalidRequest', 'field 01 must be 11 (reusable) or 12 (single use)', '01', 'value');

  const account = readTlv(f.get('26')!, '26');
  if (!account.ok) return account;
  const acc = new Map(account.value.map((x) => [x.id, x.value]));
  // the GUI is case-insensitive in the manual; anything else is not a Pix code
  if (acc.get('00')?.toLowerCase() !== PIX_GUI) return fail('InvalidRequest', `field 26/00 (GUI) must be ${PIX_GUI}`, '26.00', 'gui');
  const key = acc.get('01');
  const url = acc.get('25');
  if ((key === undefined) === (url === undefined)) return fail('InvalidRequest', 'field 26 must carry exactly one of a key (01) or a payload URL (25)', '26', 'choice');

  const additional = readTlv(f.get('62')!, '62');
  if (!additional.ok) return additional;
  const txid = additional.value.find((x) => x.id === '05')?.value;
  if (txid === undefined) return fail('InvalidRequest', 'field 62/05 (txid) is missing; write *** when there is none', '62.05', 'required');

  let amountCentavos: bigint | undefined;
  const amount = f.get('54');
  if (amount !== undefined) {
    if (amount.length > AMOUNT_LENGTH_MAX || !AMOUNT_RE.test(amount)) return fail('InvalidRequest', 'field 54 (amount) must be like 12.34 (two decimals, at most 13 characters)', '54', 'format');
    amountCentavos = BigInt(amount.replace('.', ''));
    if (amountCentavos === 0n) return fail('InvalidRequest', 'field 54 (amount) must be greater than zero', '54', 'minimum');
  }
  const name = f.get('59')!;
  const city = f.get('60')!;
  const base = { name, city, ...(amountCentavos === undefined ? {} : { amountCentavos }) };
  const parsed: BrCode = key !== undefined
    ? { kind: 'static', key, txid, ...base, ...(acc.has('02') ? { info: acc.get('02')! } : {}) }
    : { kind: 'dynamic', url: url!, ...base };
  const valid = checkCommon(parsed);
  if (!valid.ok) {
    const field = valid.error.field === 'name' ? '59' : valid.error.field === 'city' ? '60' : valid.error.field === 'txid' ? '62.05' : valid.error.field === 'url' ? '26.25' : '26.01';
    return fail('InvalidRequest', valid.error.detail, field, valid.error.rule);
  }
  return ok(parsed);
}
