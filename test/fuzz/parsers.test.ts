// Every parser of outside input, under arbitrary and mutated input: it answers with a Result (never throws,
// never hangs), what it accepts is well-formed, and what it builds it parses back unchanged.
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import * as dict from '../../shared/dict/messages.ts';
import { checkKey, checkTaxId, cpfCheckDigits, cnpjCheckDigits, KEY_TYPES, parseKey } from '../../shared/dict/keys.ts';
import { END_TO_END_ID, newEndToEndId, parseEndToEndId, parseIspb, parseMsgId, parseReturnId, timeOfId } from '../../shared/ids.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import { makeBrCode, parseBrCode, BRCODE_LENGTH_MAX } from '../../shared/spi/brcode.ts';
import { parseSpiMessage } from '../../shared/spi/message.ts';
import { buildPacs002, parsePacs002 } from '../../shared/spi/pacs002.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import { parseXml, parseXmlDom } from '../../shared/xml/parse.ts';
import { dictCreateEntry } from '../xml/fixtures.ts';

const AT = new Date('2026-11-25T18:30:12.345Z');
const header = { from: '12345678', to: '00038166', bizMsgIdr: 'M12345678a1b2c3d4e5f6a1b2c3d4e5f', creDt: AT };
const PACS008 = buildPacs008(header, {
  endToEndId: 'E1234567820261125183012345abcdef', amountCentavos: 123456n, acceptedAt: AT, initiationForm: 'DICT', priority: 'HIGH',
  debtor: { name: 'Maria da Silva', taxId: '52998224725' },
  debtorAccount: { ispb: '12345678', branch: '0001', number: '90530802', type: 'CACC' },
  creditor: { name: 'João Pereira', taxId: '11222333000181' },
  creditorAccount: { ispb: '10000001', number: '1169414', type: 'TRAN' },
  key: '+5511987654321', remittanceInfo: 'Pagamento pedido #7',
});
const PACS002 = buildPacs002({ ...header, from: '00038166', to: '12345678' }, {
  originalMsgId: header.bizMsgIdr, originalMsgNmId: 'pacs.008.spi.1.13', originalEndToEndId: 'E1234567820261125183012345abcdef', status: 'RJCT', reason: 'AC03',
});

/** Runs per property: enough to hit the odd shapes, quick enough for CI's 2 cores. */
const RUNS = 400;
// A fixed seed keeps the suite deterministic; FUZZ_SEED=<n> explores further (a failure prints its seed).
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20_261_125) });

/** A parser "answers": it returns a Result value, whatever the input. */
function answers(r: unknown): boolean {
  return typeof r === 'object' && r !== null && 'ok' in r && typeof (r as { ok: unknown }).ok === 'boolean';
}

/** Text that looks like our input more often than uniform noise would: digits, separators, XML punctuation. */
const noisy = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.stringMatching(/^[0-9.,+\-@ E]{0,40}$/),
  fc.string({ unit: fc.constantFrom(...'<>/="\'&;#xX:aZ09 \n!-?[]'), maxLength: 200 }),
);

/** Mutations of a valid document: a byte changed, a slice cut out, a slice repeated. */
function mutated(valid: string) {
  return fc.oneof(
    fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 0x7e })).map(([i, c]) => valid.slice(0, i) + String.fromCharCode(c) + valid.slice(i + 1)),
    fc.tuple(fc.nat(valid.length), fc.nat(64)).map(([i, n]) => valid.slice(0, i) + valid.slice(i + n)),
    fc.tuple(fc.nat(valid.length), fc.nat(64)).map(([i, n]) => valid.slice(0, i) + valid.slice(i, i + n) + valid.slice(i)),
  );
}

describe('money', () => {
  test('parseAmount answers every string, and what it accepts formats back to the same text', () => {
    fc.assert(fc.property(noisy, (s) => {
      const r = parseAmount(s);
      expect(answers(r)).toBe(true);
      if (r.ok) {
        expect(r.value > 0n).toBe(true);
        expect(formatAmount(r.value)).toBe(s);
      }
    }), { numRuns: RUNS });
  });

  test('every centavo amount formats to text that parses back to it', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), (c) => {
      const r = parseAmount(formatAmount(c));
      expect(r).toEqual({ ok: true, value: c });
    }), { numRuns: RUNS });
  });
});

describe('ids', () => {
  test('the id parsers answer every value, and an accepted EndToEndId carries a real UTC time', () => {
    fc.assert(fc.property(fc.oneof(noisy, fc.anything()), (v) => {
      for (const parse of [parseEndToEndId, parseReturnId, parseMsgId, parseIspb]) expect(answers(parse(v as string))).toBe(true);
      const e2e = parseEndToEndId(v as string);
      if (e2e.ok) expect(timeOfId(e2e.value)).toBeInstanceOf(Date);
    }), { numRuns: RUNS });
  });

  test('a fresh EndToEndId parses, for any instant between 2000 and 2099', () => {
    fc.assert(fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:00Z'), noInvalidDate: true }), (at) => {
      const id = newEndToEndId('12345678', at);
      expect(id).toMatch(END_TO_END_ID);
      expect(parseEndToEndId(id).ok).toBe(true);
    }), { numRuns: RUNS });
  });
});

describe('DICT keys and tax ids', () => {
  test('parseKey and checkKey answer every string of every type', () => {
    fc.assert(fc.property(noisy, fc.constantFrom(...KEY_TYPES, 'BOGUS'), (s, type) => {
      expect(answers(parseKey(s))).toBe(true);
      expect(answers(checkKey(type, s))).toBe(true);
      expect(answers(checkTaxId('NATURAL_PERSON', s))).toBe(true);
      expect(answers(checkTaxId('LEGAL_PERSON', s))).toBe(true);
    }), { numRuns: RUNS });
  });

  test('a CPF or CNPJ with its check digits is accepted; one wrong digit is refused', () => {
    fc.assert(fc.property(fc.stringMatching(/^[0-9]{9}$/), fc.stringMatching(/^[0-9]{12}$/), fc.nat(10), (cpf9, cnpj12, flip) => {
      const cpf = cpf9 + cpfCheckDigits(cpf9);
      const cnpj = cnpj12 + cnpjCheckDigits(cnpj12);
      expect(checkKey('CPF', cpf).ok).toBe(true);
      expect(checkKey('CNPJ', cnpj).ok).toBe(true);
      const wrong = cpf.slice(0, 10) + String((Number(cpf[10]) + 1 + (flip % 9)) % 10);
      expect(checkKey('CPF', wrong).ok).toBe(false);
    }), { numRuns: RUNS });
  });
});

describe('BR Codes', () => {
  const staticCode = fc.record({
    key: fc.constantFrom('+5511987654321', 'fulano@example.com', '52998224725', '123e4567-e89b-42d3-a456-426614174000'),
    name: fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,24}$/),
    city: fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,14}$/),
    txid: fc.oneof(fc.constant('***'), fc.stringMatching(/^[a-zA-Z0-9]{1,25}$/)),
    amountCentavos: fc.option(fc.bigInt({ min: 1n, max: 10n ** 10n }), { nil: undefined }),
  });

  test('parseBrCode answers every string, and mutations of a valid code', () => {
    const valid = makeBrCode({ kind: 'static', key: '+5511987654321', name: 'FULANO', city: 'SAO PAULO', txid: 'abc123', amountCentavos: 1234n });
    if (!valid.ok) throw new Error(valid.error.detail);
    fc.assert(fc.property(fc.oneof(noisy, mutated(valid.value), fc.string({ minLength: BRCODE_LENGTH_MAX, maxLength: BRCODE_LENGTH_MAX * 3 })), (s) => {
      const r = parseBrCode(s);
      expect(answers(r)).toBe(true);
    }), { numRuns: RUNS });
  });

  test('a changed character of a BR Code is caught (its CRC16 or its format)', () => {
    const valid = makeBrCode({ kind: 'static', key: 'fulano@example.com', name: 'FULANO', city: 'RIO', txid: '***' });
    if (!valid.ok) throw new Error(valid.error.detail);
    fc.assert(fc.property(fc.nat(valid.value.length - 1), fc.integer({ min: 0x21, max: 0x7e }), (i, c) => {
      fc.pre(valid.value[i] !== String.fromCharCode(c));
      const changed = valid.value.slice(0, i) + String.fromCharCode(c) + valid.value.slice(i + 1);
      expect(parseBrCode(changed).ok).toBe(false);
    }), { numRuns: RUNS });
  });

  test('what makeBrCode builds, parseBrCode reads back', () => {
    fc.assert(fc.property(staticCode, (c) => {
      const made = makeBrCode({ kind: 'static', ...c });
      if (!made.ok) return; // a combination the manual refuses (e.g. too long overall) is a value, not a crash
      const back = parseBrCode(made.value);
      expect(back.ok).toBe(true);
      if (back.ok && back.value.kind === 'static') {
        expect(back.value.key).toBe(c.key);
        expect(back.value.txid).toBe(c.txid);
        expect(back.value.amountCentavos).toBe(c.amountCentavos);
      }
    }), { numRuns: RUNS });
  });
});

describe('XML messages', () => {
  const spi = PACS008;
  const dictDoc = dictCreateEntry();
  const dictMessages = Object.values(dict as Record<string, unknown>).filter((m): m is dict.Message<unknown> => typeof m === 'object' && m !== null && 'parse' in m && 'root' in m);

  test('parseXml and parseXmlDom answer arbitrary text and mutated messages', () => {
    fc.assert(fc.property(fc.oneof(noisy, mutated(spi), mutated(dictDoc)), (s) => {
      expect(answers(parseXml(s))).toBe(true);
      expect(answers(parseXmlDom(s))).toBe(true);
    }), { numRuns: RUNS });
  });

  test('every SPI message parser answers mutated pacs.008 and pacs.002 envelopes', () => {
    fc.assert(fc.property(fc.oneof(mutated(spi), mutated(PACS002)), (s) => {
      expect(answers(parseSpiMessage(s))).toBe(true);
      expect(answers(parsePacs002(s))).toBe(true);
    }), { numRuns: RUNS });
  });

  test(`every DICT message (${dictMessages.length} of them) answers mutated and foreign documents`, () => {
    expect(dictMessages.length).toBeGreaterThan(30);
    fc.assert(fc.property(fc.oneof(mutated(dictDoc), mutated(spi), noisy), fc.constantFrom(...dictMessages), (s, m) => {
      expect(answers(m.parse(s))).toBe(true);
    }), { numRuns: RUNS * 2 });
  });

  test('the untouched documents parse: the mutations start from valid input', () => {
    expect(parseSpiMessage(spi).ok).toBe(true);
    expect(parsePacs002(PACS002).ok).toBe(true);
    expect(dict.CREATE_ENTRY_REQUEST.parse(dictDoc).ok).toBe(true);
  });
});
