// BR Code: static and dynamic codes round-trip; every rule of the manual refuses with its field and reason.
import { describe, expect, test } from 'bun:test';
import { generateKeyPairSync } from 'node:crypto';
import { crc16, makeBrCode, parseBrCode, type BrCode } from '../../shared/spi/brcode.ts';
import { chargeExpired, checkChargePayload, signJws, verifyJws, type ChargePayload } from '../../shared/spi/jws.ts';

const made = (c: BrCode) => {
  const r = makeBrCode(c);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
};
/** recomputes the CRC after tampering, so the test reaches the rule behind it */
const withCrc = (code: string) => code.slice(0, -4) + crc16(code.slice(0, -4));

describe('BR Code', () => {
  test('the BR Code manual example parses (its CRC is 1D3D)', () => {
    const code = '00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D';
    expect(crc16('123456789')).toBe('29B1'); // the CRC-16/CCITT-FALSE check value
    expect(parseBrCode(code)).toEqual({ ok: true, value: { kind: 'static', key: '123e4567-e12b-12d1-a456-426655440000', txid: '***', name: 'Fulano de Tal', city: 'BRASILIA' } });
  });

  test('a static code with amount, txid and info round-trips', () => {
    const c: BrCode = { kind: 'static', key: '+5511987654321', amountCentavos: 1234n, name: 'Padaria Pao Bom', city: 'SAO PAULO', txid: 'PEDIDO123', info: 'mesa 4' };
    const code = made(c);
    expect(code).toContain('540512.34');
    expect(parseBrCode(code)).toEqual({ ok: true, value: c });
  });

  test('a dynamic code carries 010212 and the URL, and round-trips', () => {
    const c: BrCode = { kind: 'dynamic', url: 'pix.fluxiq.dev/qr/v2/cobv/9d36b84fc70b478fb95c12729b90ca25', name: 'Loja Exemplo', city: 'CURITIBA' };
    const code = made(c);
    expect(code).toStartWith('000201010212');
    expect(parseBrCode(code)).toEqual({ ok: true, value: c });
  });

  const base = () => made({ kind: 'static', key: 'fulano@example.com', amountCentavos: 500n, name: 'Fulano', city: 'RECIFE', txid: '***' });
  const refusals: [string, () => string, string, string][] = [
    ['a broken CRC', () => base().slice(0, -1) + (base().endsWith('0') ? '1' : '0'), '63', 'crc'],
    ['a lowercase CRC', () => base().slice(0, -4) + base().slice(-4).toLowerCase(), '63', 'crc'],
    ['a truncated code', () => base().slice(0, 40), 'code.26', 'truncated'],
    ['a code cut in a field header', () => base().slice(0, 2), 'code', 'truncated'],
    ['a wrong GUI', () => withCrc(base().replace('br.gov.bcb.pix', 'br.gov.bcb.pux')), '26.00', 'gui'],
    ['a missing currency', () => withCrc(base().replace('5303986', '')), '53', 'required'],
    ['another currency', () => withCrc(base().replace('5303986', '5303840')), '53', 'value'],
    ['a 3-decimal amount', () => withCrc(base().replace('54045.00', '54055.000')), '54', 'format'],
    ['an amount without decimals', () => withCrc(base().replace('54045.00', '54015')), '54', 'format'],
    ['a negative amount', () => withCrc(base().replace('54045.00', '5405-5.00')), '54', 'format'],
    ['a name over 25', () => withCrc(base().replace('5906Fulano', `5926${'F'.repeat(26)}`)), '59', 'max-length'],
    ['a city over 15', () => withCrc(base().replace('6006RECIFE', `6016${'R'.repeat(16)}`)), '60', 'max-length'],
    ['a txid over 25', () => withCrc(base().replace('62070503***', `62300526${'a'.repeat(26)}`)), '62.05', 'format'],
    ['a txid with symbols', () => withCrc(base().replace('62070503***', '62080504ab-c')), '62.05', 'format'],
    ['a length that overruns the code', () => withCrc(base().replace('5906Fulano', '5999Fulano')), 'code.59', 'truncated'],
    ['a duplicated field', () => withCrc(base().replace('5802BR', '5802BR5802BR')), 'code.58', 'duplicate'],
    ['a missing name', () => withCrc(base().replace('5906Fulano', '')), '59', 'required'],
    ['a not-Pix payload format', () => withCrc(base().replace(/^000201/, '000202')), '00', 'payload-format'],
    ['an oversized code', () => `000201${'8'.repeat(600)}`, 'code', 'max-length'],
  ];
  for (const [what, code, field, rule] of refusals) {
    test(`${what} is refused (${field}: ${rule})`, () => {
      const r = parseBrCode(code());
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: 'InvalidRequest', field, rule });
    });
  }

  test('making a code refuses oversized or unprintable fields', () => {
    const ok: BrCode = { kind: 'static', key: 'k', name: 'N', city: 'C', txid: '***' };
    expect(makeBrCode({ ...ok, name: 'N'.repeat(26) })).toMatchObject({ ok: false, error: { field: 'name', rule: 'max-length' } });
    expect(makeBrCode({ ...ok, city: 'São Paulo' })).toMatchObject({ ok: false, error: { field: 'city', rule: 'charset' } });
    expect(makeBrCode({ ...ok, txid: 'x'.repeat(26) })).toMatchObject({ ok: false, error: { field: 'txid', rule: 'format' } });
    expect(makeBrCode({ ...ok, amountCentavos: 0n })).toMatchObject({ ok: false, error: { field: 'amount', rule: 'minimum' } });
    expect(makeBrCode({ kind: 'dynamic', url: 'https://x.dev/a', name: 'N', city: 'C' })).toMatchObject({ ok: false, error: { field: 'url', rule: 'no-scheme' } });
  });
});

describe('dynamic charge JWS', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cob: ChargePayload = {
    revisao: 0, txid: '7978c0c97ea847e78e8849634473c1f1',
    calendario: { criacao: '2026-11-25T18:00:00.000Z', apresentacao: '2026-11-25T18:01:00.000Z', expiracao: 3600 },
    status: 'ATIVA', valor: { original: '37.00' }, chave: '+5511987654321',
  };

  test('a signed cob verifies and passes the payload rules; expiry follows calendario', () => {
    const jws = signJws(cob, priv, { kid: 'k1' });
    const v = verifyJws(jws, pub);
    expect(v).toMatchObject({ ok: true, value: { header: { alg: 'RS256', kid: 'k1' }, payload: cob } });
    expect(checkChargePayload(v.ok && v.value.payload)).toEqual({ ok: true, value: cob });
    expect(chargeExpired(cob, new Date('2026-11-25T18:59:59Z'))).toBe(false);
    expect(chargeExpired(cob, new Date('2026-11-25T19:00:01Z'))).toBe(true);
  });

  test('a tampered payload, alg none, or a foreign key are refused', () => {
    const [h, , s] = signJws(cob, priv).split('.');
    const evil = Buffer.from(JSON.stringify({ ...cob, valor: { original: '1.00' } })).toString('base64url');
    expect(verifyJws(`${h}.${evil}.${s}`, pub)).toMatchObject({ ok: false, error: { rule: 'signature' } });
    const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(verifyJws(`${none}.${evil}.`, pub)).toMatchObject({ ok: false, error: { rule: 'algorithm' } });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyJws(signJws(cob, priv), other)).toMatchObject({ ok: false, error: { rule: 'signature' } });
  });

  test('payload rules: txid length, amount format, cobv due date', () => {
    expect(checkChargePayload({ ...cob, txid: 'short' })).toMatchObject({ ok: false, error: { field: 'txid' } });
    expect(checkChargePayload({ ...cob, valor: { original: '1.234' } })).toMatchObject({ ok: false, error: { field: 'valor.original' } });
    const cobv = { ...cob, calendario: { criacao: cob.calendario.criacao, apresentacao: cob.calendario.apresentacao, dataDeVencimento: '2026-12-01', validadeAposVencimento: 2 } };
    expect(checkChargePayload(cobv).ok).toBe(true);
    expect(chargeExpired(cobv, new Date('2026-12-03T12:00:00Z'))).toBe(false);
    expect(chargeExpired(cobv, new Date('2026-12-04T00:00:01Z'))).toBe(true);
  });
});
