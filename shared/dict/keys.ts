// DICT key and tax id validation (PIX.md § Keys). Pure: every check returns a Result whose error names the
// field and the rule broken, so the HTTP edge can answer `EntryInvalid` with `violations[{field, rule}]`.
import { fail, ok, type Result } from '../result.ts';

export const KEY_TYPES = ['CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const OWNER_TYPES = ['NATURAL_PERSON', 'LEGAL_PERSON'] as const;
export type OwnerType = (typeof OWNER_TYPES)[number];

export const ACCOUNT_TYPES = ['CACC', 'SVGS', 'SLRY', 'TRAN'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** Rules named in `violations[].rule`; the DICT service and the sandbox report the same names. */
export const KEY_RULES = {
  format: 'format',
  checkDigit: 'check-digit',
  allEqual: 'all-equal-digits',
  maxLength: 'max-length',
  lowercase: 'lowercase',
  type: 'key-type',
  taxIdMismatch: 'owner-tax-id',
} as const;

/** The spec's limit for EMAIL keys (DICT API, schema `Key`). */
export const EMAIL_LENGTH_MAX = 77;

const CPF_RE = /^[0-9]{11}$/;
// alphanumeric CNPJ (IN RFB 2.229/2024, from July 2026): 12 chars [0-9A-Z] then 2 numeric check digits
const CNPJ_RE = /^[0-9A-Z]{12}[0-9]{2}$/;
const PHONE_RE = /^\+[1-9][0-9]\d{1,14}$/;
// the DICT API spec's EMAIL pattern (no `%`); length and case are checked first for a precise rule
const EMAIL_RE = /^[a-z0-9.!#$&'*+\/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const EVP_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isKeyType(s: string): s is KeyType {
  return (KEY_TYPES as readonly string[]).includes(s);
}

/** mod-11 check digit over `values` with `weights`: remainder < 2 → 0, else 11 − remainder. */
function mod11(values: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += values[i]! * weights[i]!;
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

const CPF_WEIGHTS_1 = [10, 9, 8, 7, 6, 5, 4, 3, 2];
const CPF_WEIGHTS_2 = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_WEIGHTS_1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_WEIGHTS_2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

const allEqual = (s: string) => s.split('').every((c) => c === s[0]);

export function checkCpf(cpf: string, field = 'key'): Result<string> {
  if (!CPF_RE.test(cpf)) return fail('EntryInvalid', 'a CPF is 11 digits', field, KEY_RULES.format);
  // all-equal CPFs pass the mod-11 arithmetic but are never issued
  if (allEqual(cpf)) return fail('EntryInvalid', 'a CPF of all-equal digits is invalid', field, KEY_RULES.allEqual);
  const d = cpf.split('').map(Number);
  if (mod11(d, CPF_WEIGHTS_1) !== d[9] || mod11(d, CPF_WEIGHTS_2) !== d[10]) {
    return fail('EntryInvalid', 'CPF check digits do not match', field, KEY_RULES.checkDigit);
  }
  return ok(cpf);
}

export function checkCnpj(cnpj: string, field = 'key'): Result<string> {
  if (!CNPJ_RE.test(cnpj)) return fail('EntryInvalid', 'a CNPJ is 12 characters [0-9A-Z] and 2 check digits', field, KEY_RULES.format);
  if (allEqual(cnpj)) return fail('EntryInvalid', 'a CNPJ of all-equal characters is invalid', field, KEY_RULES.allEqual);
  // each character's value is its ASCII code − 48 (digits keep their value; 'A' = 17 ... 'Z' = 42)
  const v = cnpj.split('').map((c) => c.charCodeAt(0) - 48);
  if (mod11(v, CNPJ_WEIGHTS_1) !== v[12] || mod11(v, CNPJ_WEIGHTS_2) !== v[13]) {
    return fail('EntryInvalid', 'CNPJ check digits do not match', field, KEY_RULES.checkDigit);
  }
  return ok(cnpj);
}

/** Computes the two check digits of a 12-char CNPJ base (test data, seeding). */
export function cnpjCheckDigits(base12: string): string {
  const v = base12.split('').map((c) => c.charCodeAt(0) - 48);
  const d1 = mod11(v, CNPJ_WEIGHTS_1);
  const d2 = mod11([...v, d1], CNPJ_WEIGHTS_2);
  return `${d1}${d2}`;
}

/** Computes the two check digits of a 9-digit CPF base (test data, seeding). */
export function cpfCheckDigits(base9: string): string {
  const v = base9.split('').map(Number);
  const d1 = mod11(v, CPF_WEIGHTS_1);
  const d2 = mod11([...v, d1], CPF_WEIGHTS_2);
  return `${d1}${d2}`;
}

export function checkPhone(phone: string, field = 'key'): Result<string> {
  if (!PHONE_RE.test(phone)) return fail('EntryInvalid', 'a PHONE key is E.164: +<country><number>', field, KEY_RULES.format);
  return ok(phone);
}

export function checkEmail(email: string, field = 'key'): Result<string> {
  if (email.length > EMAIL_LENGTH_MAX) return fail('EntryInvalid', `an EMAIL key has at most ${EMAIL_LENGTH_MAX} characters`, field, KEY_RULES.maxLength);
  if (email !== email.toLowerCase()) return fail('EntryInvalid', 'an EMAIL key is lowercase', field, KEY_RULES.lowercase);
  if (!EMAIL_RE.test(email)) return fail('EntryInvalid', 'EMAIL key does not match the DICT pattern', field, KEY_RULES.format);
  return ok(email);
}

export function checkEvp(evp: string, field = 'key'): Result<string> {
  if (!EVP_RE.test(evp)) return fail('EntryInvalid', 'an EVP key is a lowercase UUID (8-4-4-4-12 hex)', field, KEY_RULES.format);
  return ok(evp);
}

/** Validates `key` as a key of `type`; the value is the key unchanged (nothing is normalised silently). */
export function checkKey(type: string, key: string, field = 'key'): Result<string> {
  switch (type) {
    case 'CPF':
      return checkCpf(key, field);
    case 'CNPJ':
      return checkCnpj(key, field);
    case 'PHONE':
      return checkPhone(key, field);
    case 'EMAIL':
      return checkEmail(key, field);
    case 'EVP':
      return checkEvp(key, field);
    default:
      return fail('EntryInvalid', `unknown key type ${type}`, 'keyType', KEY_RULES.type);
  }
}

/** The key type a key's shape implies (lookups take a bare key), or null when it fits none. */
export function detectKeyType(key: string): KeyType | null {
  if (CPF_RE.test(key)) return 'CPF';
  if (CNPJ_RE.test(key)) return 'CNPJ';
  if (key.startsWith('+')) return 'PHONE';
  if (key.includes('@')) return 'EMAIL';
  if (EVP_RE.test(key)) return 'EVP';
  return null;
}

/** A key whose shape implies a type and that validates as that type. */
export function parseKey(key: string, field = 'key'): Result<{ keyType: KeyType; key: string }> {
  const keyType = detectKeyType(key);
  if (keyType === null) return fail('EntryInvalid', 'the key matches no key type', field, KEY_RULES.format);
  const checked = checkKey(keyType, key, field);
  return checked.ok ? ok({ keyType, key }) : checked;
}

/** Owner tax id: CPF for a natural person, CNPJ for a legal person. */
export function checkTaxId(ownerType: string, taxIdNumber: string, field = 'owner.taxIdNumber'): Result<string> {
  if (ownerType === 'NATURAL_PERSON') return checkCpf(taxIdNumber, field);
  if (ownerType === 'LEGAL_PERSON') return checkCnpj(taxIdNumber, field);
  return fail('EntryInvalid', `unknown owner type ${ownerType}`, 'owner.type', KEY_RULES.format);
}

/** CPF/CNPJ keys must equal the owner's tax id (DICT error EntryTaxIdNumberByDifferentOwner). */
export function checkKeyMatchesOwner(keyType: KeyType, key: string, ownerType: OwnerType, taxIdNumber: string): Result<null> {
  if (keyType === 'CPF' && (ownerType !== 'NATURAL_PERSON' || key !== taxIdNumber)) {
    return fail('EntryInvalid', 'a CPF key must be the natural-person owner\'s CPF', 'key', KEY_RULES.taxIdMismatch);
  }
  if (keyType === 'CNPJ' && (ownerType !== 'LEGAL_PERSON' || key !== taxIdNumber)) {
    return fail('EntryInvalid', 'a CNPJ key must be the legal-person owner\'s CNPJ', 'key', KEY_RULES.taxIdMismatch);
  }
  return ok(null);
}

/** Owner type implied by a tax id's length (11 → natural, 14 → legal). */
export function ownerTypeOfTaxId(taxIdNumber: string): OwnerType | null {
  return taxIdNumber.length === 11 ? 'NATURAL_PERSON' : taxIdNumber.length === 14 ? 'LEGAL_PERSON' : null;
}
