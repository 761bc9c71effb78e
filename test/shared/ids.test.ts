import { describe, expect, test } from 'bun:test';
import { END_TO_END_ID, MSG_ID, RETURN_ID, newEndToEndId, newMsgId, newReturnId, parseEndToEndId, parseIspb, parseMsgId, parseReturnId, stampUtc, timeOfId } from '../../shared/ids.ts';

const AT = new Date(Date.UTC(2026, 10, 25, 15, 7, 59));

describe('PIX identifiers', () => {
  test('an EndToEndId is E + payer ISPB + yyyyMMddHHmm UTC + 11 alphanumerics', () => {
    const id = newEndToEndId('12345678', AT);
    expect(id).toHaveLength(32);
    expect(id).toMatch(END_TO_END_ID);
    expect(id.slice(0, 21)).toBe('E12345678202611251507');
    expect(timeOfId(id)?.toISOString()).toBe('2026-11-25T15:07:00.000Z');
  });

  test('a ReturnId has the same shape with D', () => {
    const id = newReturnId('12345678', AT);
    expect(id).toMatch(RETURN_ID);
    expect(id[0]).toBe('D');
  });

  test('a MsgId is M + ISPB + 23 alphanumerics', () => {
    const id = newMsgId('1234ABCD');
    expect(id).toHaveLength(32);
    expect(id).toMatch(MSG_ID);
  });

  test('generated ids do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEndToEndId('12345678', AT)));
    expect(ids.size).toBe(10_000);
  });

  test('the stamp is UTC', () => {
    expect(stampUtc(new Date('2026-01-01T00:30:00-03:00'))).toBe('202601010330');
  });

  test('validators refuse wrong shapes and impossible dates', () => {
    expect(parseEndToEndId('E12345678202611251507abcdefghijk').ok).toBe(true);
    expect(parseEndToEndId('E12345678202613251507abcdefghijk').ok).toBe(false); // month 13
    expect(parseEndToEndId('E12345678202602301507abcdefghijk').ok).toBe(false); // 30 February
    expect(parseEndToEndId('E1234567820261125150abcdefghijk').ok).toBe(false); // short
    expect(parseEndToEndId('D12345678202611251507abcdefghijk').ok).toBe(false);
    expect(parseEndToEndId(42).ok).toBe(false);
    expect(parseReturnId('D12345678202611251507abcdefghijk').ok).toBe(true);
    expect(parseMsgId('M12345678abcdefghijklmnopqrstuvw').ok).toBe(true);
    expect(parseMsgId('M12345678abcdefghijklmnopqrstuv!').ok).toBe(false);
    const bad = parseIspb('1234567');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatchObject({ field: 'ispb', rule: 'format' });
  });

  test('generating for a malformed ISPB is a bug and throws', () => {
    expect(() => newEndToEndId('123', AT)).toThrow();
  });
});
