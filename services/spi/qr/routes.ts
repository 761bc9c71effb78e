// BR Codes: static codes, charges behind dynamic codes (cob/cobv) and their signed payload, parsing,
// and the preview a payer's app shows before confirming (no money moves; the key lookup counts against
// the payer's DICT anti-scan bucket like any lookup).
import { Elysia, t } from 'elysia';
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { isCalendarDate } from '../../../shared/dates.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatAmount, parseAmount } from '../../../shared/money.ts';
import { SANDBOX_PSPS } from '../../../shared/participants.ts';
import type { DomainError } from '../../../shared/result.ts';
import { makeBrCode, parseBrCode, type BrCode } from '../../../shared/spi/brcode.ts';
import type { KeyResolver } from '../keys/resolver.ts';
import { maskTaxId } from '../payments/payment.ts';
import { PreviewBody } from '../payments/model.ts';
import { fetchCharge, loadCharge, newChargeTxid, signedPayload } from './charges.ts';

export interface QrDeps {
  sql: Sql<{ bigint: bigint }>;
  clock: Clock;
  resolver: KeyResolver;
  payloadHost: string;
  ourIspb: string;
  keyPem: string;
  certPem: string;
  trustedCaPem: string;
  fetchScheme: 'https' | 'http';
}

const CHARGE_EXPIRY_S_DEFAULT = 3_600;

export const brCodeJson = (c: BrCode) => ({ ...c, ...(c.amountCentavos !== undefined ? { amount: formatAmount(c.amountCentavos) } : {}), amountCentavos: undefined });

function refuse(error: DomainError, prefix = ''): never {
  throw HttpProblem.of(error.code, error.detail, error.field ? [{ field: `${prefix}${error.field}`, rule: error.rule ?? 'invalid' }] : undefined);
}

export function qrRoutes(deps: QrDeps) {
  const { sql, clock } = deps;
  const institution = (ispb: string) => (ispb === deps.ourIspb ? 'FluxiQ' : SANDBOX_PSPS.find((p) => p.ispb === ispb)?.name ?? ispb);
  const amountOf = (wire: string | undefined) => {
    if (wire === undefined) return undefined;
    const a = parseAmount(wire, 'amount');
    if (!a.ok) refuse(a.error);
    return a.value;
  };

  return new Elysia({ prefix: '/qr', detail: { tags: ['qr'] } })
    .post('/static', ({ body, set }) => {
      const amount = amountOf(body.amount);
      const code = makeBrCode({ kind: 'static', key: body.key, name: body.name, city: body.city, txid: body.txid ?? '***', ...(amount ? { amountCentavos: amount } : {}), ...(body.info ? { info: body.info } : {}) });
      if (!code.ok) refuse(code.error);
      set.status = 201;
      return { brCode: code.value };
    }, {
      body: t.Object({ key: t.String({ minLength: 1, maxLength: 77 }), amount: t.Optional(t.String({ maxLength: 32 })), name: t.String({ minLength: 1, maxLength: 200 }), city: t.String({ minLength: 1, maxLength: 200 }), txid: t.Optional(t.String({ maxLength: 100 })), info: t.Optional(t.String({ maxLength: 200 })) }, { additionalProperties: false }),
      detail: { summary: 'Static BR Code' },
    })
    .post('/charges', async ({ body, set }) => {
      const amount = amountOf(body.amount)!;
      const txid = body.txid ?? newChargeTxid();
      const url = `${deps.payloadHost}/qr/v2/${txid}`;
      const code = makeBrCode({ kind: 'dynamic', url, name: body.name, city: body.city, ...(body.kind === 'cob' ? { amountCentavos: amount } : {}) });
      if (!code.ok) refuse(code.error);
      if (body.kind === 'cobv' && !body.dueDate) throw HttpProblem.of('InvalidRequest', 'a cobv needs dueDate', [{ field: 'dueDate', rule: 'required' }]);
      if (body.dueDate !== undefined && !isCalendarDate(body.dueDate)) throw HttpProblem.of('InvalidRequest', `dueDate ${body.dueDate} is not a calendar date`, [{ field: 'dueDate', rule: 'calendar-date' }]);
      const rows = await sql`insert into spi_charges ${sql({
        txid, kind: body.kind, pix_key: body.key, amount_centavos: amount, payee_name: body.name, payee_city: body.city, payee_tax_id: body.payeeTaxId ?? null,
        payer_tax_id: body.payerTaxId ?? null, payer_name: body.payerName ?? null, due_date: body.kind === 'cobv' ? body.dueDate! : null,
        expires_in_s: body.expiresInS ?? CHARGE_EXPIRY_S_DEFAULT, created_at: clock.now(),
      })} on conflict do nothing returning txid`;
      if (rows.length === 0) throw HttpProblem.of('Conflict', `a charge with txid ${txid} exists`, [{ field: 'txid', rule: 'unique' }]);
      set.status = 201;
      return { txid, kind: body.kind, location: url, brCode: code.value };
    }, {
      body: t.Object({
        kind: t.Union([t.Literal('cob'), t.Literal('cobv')]),
        key: t.String({ minLength: 1, maxLength: 77 }),
        amount: t.String({ maxLength: 32 }),
        name: t.String({ minLength: 1, maxLength: 25 }),
        city: t.String({ minLength: 1, maxLength: 15 }),
        txid: t.Optional(t.String({ pattern: '^[a-zA-Z0-9]{26,35}$' })),
        expiresInS: t.Optional(t.Integer({ minimum: 1, maximum: 31_536_000 })),
        // years 1000..9999 (Postgres has no year 0); that it is a calendar date is checked in the route
        dueDate: t.Optional(t.String({ pattern: '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$' })),
        payeeTaxId: t.Optional(t.String({ pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' })),
        payerTaxId: t.Optional(t.String({ pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' })),
        payerName: t.Optional(t.String({ minLength: 1, maxLength: 140 })),
      }, { additionalProperties: false }),
      detail: { summary: 'Create a charge (cob/cobv) and its dynamic BR Code' },
    })
    .get('/v2/:txid', async ({ params }) => {
      const charge = await loadCharge(sql, params.txid);
      if (!charge) throw HttpProblem.of('NotFound', `no charge ${params.txid}`);
      return new Response(signedPayload(charge, deps.keyPem, deps.certPem), { headers: { 'content-type': 'application/jose' } });
    }, { params: t.Object({ txid: t.String({ pattern: '^[a-zA-Z0-9]{26,35}$' }) }), detail: { summary: 'The charge as a JWS (the dynamic BR Code location)' } })
    .post('/parse', ({ body }) => {
      const code = parseBrCode(body.brCode);
      if (!code.ok) refuse(code.error, 'brCode.');
      return brCodeJson(code.value);
    }, { body: t.Object({ brCode: t.String({ maxLength: 4096 }) }), detail: { summary: 'Parse and validate a BR Code' } })
    .post('/preview', async ({ body }) => preview(body), { body: PreviewBody, detail: { summary: 'What the payer sees before paying (counts against anti-scan)' } });

  async function preview(body: PreviewBody) {
    if ((body.key === undefined) === (body.brCode === undefined)) throw HttpProblem.of('InvalidRequest', 'give exactly one of key, brCode', [{ field: 'key', rule: 'choice' }]);
    let key = body.key;
    let amount: string | undefined;
    let dueDate: string | undefined;
    let expired = false;
    let paid = false;
    let txid: string | undefined;
    if (body.brCode !== undefined) {
      const code = parseBrCode(body.brCode);
      if (!code.ok) refuse(code.error, 'brCode.');
      if (code.value.amountCentavos !== undefined) amount = formatAmount(code.value.amountCentavos);
      if (code.value.kind === 'static') {
        key = code.value.key;
        if (code.value.txid !== '***') txid = code.value.txid;
      } else {
        const fetched = await fetchCharge(code.value.url, { scheme: deps.fetchScheme, trustedCaPem: deps.trustedCaPem, clock });
        if (!fetched.ok) refuse(fetched.error);
        const c = fetched.value;
        key = c.payload.chave;
        txid = c.payload.txid;
        amount = c.payload.valor.final ?? c.payload.valor.original;
        dueDate = c.payload.calendario.dataDeVencimento;
        expired = c.expired;
        paid = c.paid;
      }
    }
    const entry = await deps.resolver.resolve(key!, { payerId: body.payerId });
    if (!entry.ok) refuse(entry.error);
    const e = entry.value;
    return {
      payee: { name: e.owner.name, taxId: maskTaxId(e.owner.taxIdNumber), ...(e.owner.tradeName ? { tradeName: e.owner.tradeName } : {}) },
      institution: { ispb: e.account.participant, name: institution(e.account.participant) },
      key: e.key, keyType: e.keyType,
      ...(amount ? { amount } : {}), ...(dueDate ? { dueDate } : {}), ...(txid ? { txid } : {}),
      expired, paid, payable: !expired && !paid,
    };
  }
}
