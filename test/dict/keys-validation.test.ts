// Keys API: every malformed registration is refused before DICT is called, with the field and the
// rule it broke (PIX.md § Keys), and PHONE/EMAIL need a confirmation code the user received.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { account, dictFixture, legalPerson, naturalPerson, type DictFixture, FIXTURE_TIMEOUT_MS } from './support.ts';

let fx: DictFixture;
beforeAll(async () => {
  fx = await dictFixture('keyval');
}, FIXTURE_TIMEOUT_MS);
afterAll(async () => {
  await fx?.close();
}, FIXTURE_TIMEOUT_MS);

async function journalCount(): Promise<number> {
  const r = await fx.sandbox.control('GET', '/requests');
  expect(Array.isArray(r.json.entries)).toBe(true);
  return r.json.entries.length;
}

async function refused(body: Record<string, unknown>, field: string, rule: string, code = 'EntryInvalid') {
  const before = await journalCount();
  const r = await fx.call('POST', '/keys', body);
  expect(r.status).toBe(400);
  expect(r.headers.get('content-type')).toStartWith('application/problem+json');
  expect(r.json.type).toEndWith(`/${code}`);
  expect(r.json.violations).toContainEqual(expect.objectContaining({ field, rule }));
  expect(await journalCount()).toBe(before); // nothing reached the sandbox
}

describe('a registration is refused with the field and the rule it broke', () => {
  const owner = naturalPerson('52998224725');
  test('CPF with wrong check digits', () => refused({ keyType: 'CPF', key: '52998224724', account: account('1001'), owner: naturalPerson('52998224724') }, 'owner.taxIdNumber', 'check-digit'));
  test('CPF of all-equal digits, even though its check digits add up', () => refused({ keyType: 'CPF', key: '11111111111', account: account('1001'), owner: naturalPerson('11111111111') }, 'owner.taxIdNumber', 'all-equal-digits'));
  test('CPF key that is not the owner\'s CPF', () => refused({ keyType: 'CPF', key: '11144477735', account: account('1001'), owner }, 'key', 'owner-tax-id'));
  test('alphanumeric CNPJ with wrong check digits', () => refused({ keyType: 'CNPJ', key: '12ABC34501DE36', account: account('1002'), owner: legalPerson('12ABC34501DE36') }, 'owner.taxIdNumber', 'check-digit'));
  test('CNPJ with a lowercase letter', () => refused({ keyType: 'CNPJ', key: '12abc34501de35', account: account('1002'), owner: legalPerson('12ABC34501DE35') }, 'key', 'format'));
  test('PHONE not in E.164', () => refused({ keyType: 'PHONE', key: '11987654321', account: account('1003'), owner }, 'key', 'format'));
  test('EMAIL with uppercase letters', () => refused({ keyType: 'EMAIL', key: 'Maria@Example.com', account: account('1003'), owner }, 'key', 'lowercase'));
  test('EMAIL longer than 77 characters', () => refused({ keyType: 'EMAIL', key: `${'a'.repeat(70)}@example.com`, account: account('1003'), owner }, 'key', 'max-length'));
  test('EVP chosen by the client (DICT generates EVPs)', () => refused({ keyType: 'EVP', key: '123e4567-e89b-12d3-a456-426655440000', account: account('1004'), owner }, 'key', 'absent-for-evp'));
  test('branch that is not 4 digits (schema)', () => refused({ keyType: 'EVP', account: { ...account('1004'), branch: '12' }, owner }, 'account.branch', 'pattern', 'InvalidRequest'));
  test('PHONE without a confirmation code', () => refused({ keyType: 'PHONE', key: '+5511987654321', account: account('1005'), owner }, 'confirmation', 'required'));
});

describe('PHONE and EMAIL ownership is proven by a code sent through the sender', () => {
  const owner = naturalPerson('52998224725');
  const key = '+5511912345678';

  test('the sender receives the code; the API answers only an id and its expiry', async () => {
    const r = await fx.call('POST', '/keys/confirmations', { keyType: 'PHONE', key, account: { branch: '0001', accountNumber: '2001' }, owner: { taxIdNumber: owner.taxIdNumber } });
    expect(r.status).toBe(201);
    expect(r.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(r.json)).not.toContain(fx.sender.lastCode('PHONE', key)!);
    expect(fx.sender.lastCode('PHONE', key)).toMatch(/^[0-9]{6}$/);
  });

  test('a wrong code is refused, and after five wrong codes even the right one is', async () => {
    const c = await fx.call('POST', '/keys/confirmations', { keyType: 'EMAIL', key: 'maria@example.com', account: { branch: '0001', accountNumber: '2002' }, owner: { taxIdNumber: owner.taxIdNumber } });
    const code = fx.sender.lastCode('EMAIL', 'maria@example.com')!;
    const wrong = code === '000000' ? '111111' : '000000';
    const body = { keyType: 'EMAIL', key: 'maria@example.com', account: account('2002'), owner, confirmation: { id: c.json.id, code: wrong } };
    for (let i = 0; i < 5; i++) {
      const r = await fx.call('POST', '/keys', body);
      expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'confirmation.code', rule: 'matches' }));
    }
    const r = await fx.call('POST', '/keys', { ...body, confirmation: { id: c.json.id, code } });
    expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'confirmation.code', rule: 'attempts' }));
  });

  test('a code issued for another account does not prove this one', async () => {
    const c = await fx.call('POST', '/keys/confirmations', { keyType: 'PHONE', key: '+5511900000001', account: { branch: '0001', accountNumber: '2003' }, owner: { taxIdNumber: owner.taxIdNumber } });
    const code = fx.sender.lastCode('PHONE', '+5511900000001')!;
    const r = await fx.call('POST', '/keys', { keyType: 'PHONE', key: '+5511900000001', account: account('2999'), owner, confirmation: { id: c.json.id, code } });
    expect(r.status).toBe(400);
    expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'confirmation.id', rule: 'same-entry' }));
  });

  test('a code expires after 10 minutes', async () => {
    const c = await fx.call('POST', '/keys/confirmations', { keyType: 'PHONE', key: '+5511900000002', account: { branch: '0001', accountNumber: '2004' }, owner: { taxIdNumber: owner.taxIdNumber } });
    const code = fx.sender.lastCode('PHONE', '+5511900000002')!;
    await fx.advance(10 * 60 * 1000 + 1);
    const r = await fx.call('POST', '/keys', { keyType: 'PHONE', key: '+5511900000002', account: account('2004'), owner, confirmation: { id: c.json.id, code } });
    expect(r.json.violations).toContainEqual(expect.objectContaining({ field: 'confirmation.code', rule: 'not-expired' }));
  });
});
