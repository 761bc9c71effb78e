import { describe, expect, test } from 'bun:test';
import { checkCnpj, checkCpf, checkEmail, checkEvp, checkKey, checkKeyMatchesOwner, checkPhone, checkTaxId, detectKeyType, parseKey } from '../../shared/dict/keys.ts';
import type { Result } from '../../shared/result.ts';

function ruleOf(r: Result<unknown>): string | undefined {
  return r.ok ? undefined : r.error.rule;
}

describe('CPF keys', () => {
  test('a CPF with both mod-11 check digits right is valid', () => {
    expect(checkCpf('52998224725')).toEqual({ ok: true, value: '52998224725' });
    expect(checkCpf('11122233396').ok).toBe(true);
  });
  test('a wrong first or second check digit is refused with rule check-digit', () => {
    expect(ruleOf(checkCpf('52998224735'))).toBe('check-digit');
    expect(ruleOf(checkCpf('52998224726'))).toBe('check-digit');
  });
  test('all-equal CPFs are refused although their arithmetic passes', () => {
    for (let d = 0; d <= 9; d++) expect(ruleOf(checkCpf(String(d).repeat(11)))).toBe('all-equal-digits');
  });
  test('anything but 11 digits is a format error, naming the field', () => {
    const r = checkCpf('529.982.247-25', 'owner.taxIdNumber');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'EntryInvalid', field: 'owner.taxIdNumber', rule: 'format' });
    expect(ruleOf(checkCpf('5299822472'))).toBe('format');
  });
});

describe('CNPJ keys', () => {
  test('numeric CNPJs validate as before', () => {
    expect(checkCnpj('11222333000181').ok).toBe(true);
    expect(ruleOf(checkCnpj('11222333000182'))).toBe('check-digit');
  });
  test('alphanumeric CNPJ: letters count as ASCII − 48 (RFB example 12.ABC.345/01DE-35)', () => {
    expect(checkCnpj('12ABC34501DE35').ok).toBe(true);
    expect(ruleOf(checkCnpj('12ABC34501DE36'))).toBe('check-digit');
    expect(ruleOf(checkCnpj('12ABD34501DE35'))).toBe('check-digit');
  });
  test('lowercase letters, or letters in the check digits, are format errors', () => {
    expect(ruleOf(checkCnpj('12abc34501de35'))).toBe('format');
    expect(ruleOf(checkCnpj('12ABC34501DE3A'))).toBe('format');
  });
  test('an all-equal CNPJ is refused', () => {
    expect(ruleOf(checkCnpj('00000000000000'))).toBe('all-equal-digits');
  });
});

describe('PHONE, EMAIL and EVP keys', () => {
  test('PHONE is E.164 with a leading +', () => {
    expect(checkPhone('+5511987654321').ok).toBe(true);
    expect(ruleOf(checkPhone('5511987654321'))).toBe('format');
    expect(ruleOf(checkPhone('+0511987654321'))).toBe('format');
    expect(ruleOf(checkPhone('+55119876543210000'))).toBe('format');
  });
  test('EMAIL is lowercase, at most 77 characters, and matches the spec pattern', () => {
    expect(checkEmail('pix@bcb.gov.br').ok).toBe(true);
    expect(ruleOf(checkEmail('Pix@bcb.gov.br'))).toBe('lowercase');
    expect(ruleOf(checkEmail(`${'a'.repeat(70)}@bcb.gov.br`))).toBe('max-length');
    expect(checkEmail(`${'a'.repeat(66)}@bcb.gov.br`).ok).toBe(true); // exactly 77
    expect(ruleOf(checkEmail('a%b@bcb.gov.br'))).toBe('format');
    expect(ruleOf(checkEmail('no-at-sign'))).toBe('format');
  });
  test('EVP is a lowercase UUID', () => {
    expect(checkEvp('123e4567-e89b-12d3-a456-426614174000').ok).toBe(true);
    expect(ruleOf(checkEvp('123E4567-E89B-12D3-A456-426614174000'))).toBe('format');
    expect(ruleOf(checkEvp('123e4567e89b12d3a456426614174000'))).toBe('format');
  });
  test('an unknown key type is refused on keyType', () => {
    const r = checkKey('IBAN', 'x');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ field: 'keyType', rule: 'key-type' });
  });
});

describe('type detection and owners', () => {
  test('the key shape implies its type', () => {
    expect(detectKeyType('52998224725')).toBe('CPF');
    expect(detectKeyType('12ABC34501DE35')).toBe('CNPJ');
    expect(detectKeyType('+5511987654321')).toBe('PHONE');
    expect(detectKeyType('pix@bcb.gov.br')).toBe('EMAIL');
    expect(detectKeyType('123e4567-e89b-12d3-a456-426614174000')).toBe('EVP');
    expect(detectKeyType('hello')).toBeNull();
    expect(parseKey('52998224726').ok).toBe(false);
    expect(parseKey('+5511987654321')).toEqual({ ok: true, value: { keyType: 'PHONE', key: '+5511987654321' } });
  });
  test('tax ids: CPF for natural persons, CNPJ for legal persons', () => {
    expect(checkTaxId('NATURAL_PERSON', '52998224725').ok).toBe(true);
    expect(ruleOf(checkTaxId('NATURAL_PERSON', '11222333000181'))).toBe('format');
    expect(checkTaxId('LEGAL_PERSON', '12ABC34501DE35').ok).toBe(true);
  });
  test('a CPF or CNPJ key must be its owner\'s tax id', () => {
    expect(checkKeyMatchesOwner('CPF', '52998224725', 'NATURAL_PERSON', '52998224725').ok).toBe(true);
    expect(ruleOf(checkKeyMatchesOwner('CPF', '52998224725', 'NATURAL_PERSON', '11122233396'))).toBe('owner-tax-id');
    expect(ruleOf(checkKeyMatchesOwner('CNPJ', '11222333000181', 'NATURAL_PERSON', '52998224725'))).toBe('owner-tax-id');
    expect(checkKeyMatchesOwner('PHONE', '+5511987654321', 'NATURAL_PERSON', '52998224725').ok).toBe(true);
  });
});
