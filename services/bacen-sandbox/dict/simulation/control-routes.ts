// Control API for the sandbox DICT (plain HTTP, loopback): seed the simulated PSPs' entries, set how they
// behave, make one of them open a claim against a key, run their pass now, register settled payments
// (for infraction reports and refunds), set a participant's anti-scan category.
import { createHash } from 'node:crypto';
import { Elysia, t } from 'elysia';
import { PARTICIPANT_CATEGORIES, type ParticipantCategory } from '../../../../shared/dict/buckets.ts';
import { cpfCheckDigits } from '../../../../shared/dict/keys.ts';
import { HttpProblem } from '../../../../shared/errors.ts';
import { END_TO_END_ID } from '../../../../shared/ids.ts';
import { formatAmount, parseAmount } from '../../../../shared/money.ts';
import { SANDBOX_PSPS } from '../../../../shared/participants.ts';
import { createClaim } from '../claims/service.ts';
import { createInfractionReport, reportOf } from '../infractions/service.ts';
import { findSettledPayment } from '../infractions/transactions.ts';
import { createRefund, refundOf } from '../refunds/service.ts';
import { claimOf } from '../claims/store.ts';
import type { DictContext } from '../context.ts';
import { findEntry } from '../entries/store.ts';
import { setParticipantCategory } from '../policies/categories.ts';
import { DICT_SEED_MAX, seedDict } from './seed.ts';
import { readRules, writeRules } from './rules.ts';
import { runTick } from './worker.ts';

const LIST_ENTRIES_MAX = 100_000;

export function dictControlRoutes(ctx: DictContext) {
  const { deps } = ctx;
  const { sql, clock } = deps;
  return new Elysia({ prefix: '/dict' })
    .post('/seed', async ({ body }) => {
      const started = performance.now();
      const r = await seedDict(sql, body.count, clock.now());
      return { ...r, ms: Math.round(performance.now() - started) };
    }, { body: t.Object({ count: t.Integer({ minimum: 0, maximum: DICT_SEED_MAX }) }) })
    .get('/entries', async ({ query }) => {
      const limit = Math.min(Number(query.limit ?? 1000) || 1000, LIST_ENTRIES_MAX);
      const rows = await sql<{ key: string; key_type: string; participant: string }[]>`
        select key, key_type, participant from dict_entries where (${query.participant ?? null}::text is null or participant = ${query.participant ?? null})
        order by key limit ${limit}`;
      return { entries: rows.map((r) => ({ key: r.key, keyType: r.key_type, participant: r.participant })) };
    })
    .get('/rules', () => readRules(sql))
    .put('/rules', ({ body }) => writeRules(sql, body as never), {
      body: t.Object({
        donor: t.Optional(t.Object({ acknowledge: t.Optional(t.Boolean()), resolve: t.Optional(t.Union([t.Literal('USER_REQUESTED'), t.Literal('DEFAULT'), t.Literal('NEVER')])) })),
        claimer: t.Optional(t.Object({ complete: t.Optional(t.Boolean()) })),
        infractions: t.Optional(t.Object({ acknowledge: t.Optional(t.Boolean()), close: t.Optional(t.Union([t.Literal('AGREED'), t.Literal('DISAGREED'), t.Literal('NEVER')])) })),
        refunds: t.Optional(t.Object({ close: t.Optional(t.Union([t.Literal('TOTALLY_ACCEPTED'), t.Literal('REJECTED'), t.Literal('NEVER')])) })),
      }),
    })
    .post('/simulate/run', () => runTick(deps))
    .post('/simulate/claim', async ({ body }) => {
      const entry = await findEntry(sql, body.key);
      if (!entry) throw HttpProblem.of('NotFound', `no entry for key ${body.key}`);
      const claimer = body.claimer ?? SANDBOX_PSPS.find((p) => p.ispb !== entry.participant)!.ispb;
      if (!SANDBOX_PSPS.some((p) => p.ispb === claimer)) throw HttpProblem.of('InvalidRequest', `${claimer} is not a simulated PSP`);
      const h = createHash('sha256').update(`claim:${body.key}`).digest();
      const base9 = String(400_000_000 + (h.readUInt32BE(0) % 100_000_000));
      const claimerOwner =
        body.type === 'PORTABILITY'
          ? { type: entry.owner_type as 'NATURAL_PERSON', taxIdNumber: entry.owner_tax_id, name: entry.owner_name, ...(entry.owner_trade_name ? { tradeName: entry.owner_trade_name } : {}) }
          : { type: 'NATURAL_PERSON' as const, taxIdNumber: base9 + cpfCheckDigits(base9), name: 'Novo Titular Simulado' };
      const r = await createClaim(
        sql,
        claimer,
        {
          type: body.type,
          key: entry.key,
          keyType: entry.key_type as 'PHONE',
          claimerAccount: { participant: claimer, branch: '0001', accountNumber: String(h.readUInt32BE(4)).padStart(10, '0'), accountType: 'CACC', openingDate: clock.now().toISOString() },
          claimer: claimerOwner,
        },
        clock.now(),
      );
      if (!r.ok) throw HttpProblem.fromDomain(r.error);
      return { claim: claimOf(r.value) };
    }, { body: t.Object({ key: t.String(), type: t.Union([t.Literal('OWNERSHIP'), t.Literal('PORTABILITY')]), claimer: t.Optional(t.String({ pattern: '^[0-9]{8}$' })) }) })
    // a simulated PSP, party to a settled payment, reports it (we are then the party that answers)
    .post('/simulate/infraction', async ({ body }) => {
      const payment = await findSettledPayment(sql, body.endToEndId);
      if (!payment) throw HttpProblem.of('NotFound', `no settled transaction ${body.endToEndId}`);
      const reporter = [payment.debited, payment.credited].find((ispb) => SANDBOX_PSPS.some((p) => p.ispb === ispb));
      if (!reporter) throw HttpProblem.of('InvalidRequest', 'no simulated PSP is party to the transaction');
      const r = await createInfractionReport(sql, reporter, { transactionId: body.endToEndId, infractionType: 'FRAUD', reportDetails: body.details ?? 'reported by the simulated PSP' }, clock.now());
      if (!r.ok) throw HttpProblem.fromDomain(r.error);
      return { infractionReport: reportOf(r.value) };
    }, { body: t.Object({ endToEndId: t.String(), details: t.Optional(t.String({ maxLength: 2000 })) }) })
    // the simulated payer's PSP asks us (the payee's PSP) for the money back
    .post('/simulate/refund', async ({ body }) => {
      const payment = await findSettledPayment(sql, body.endToEndId);
      if (!payment) throw HttpProblem.of('NotFound', `no settled transaction ${body.endToEndId}`);
      if (!SANDBOX_PSPS.some((p) => p.ispb === payment.debited)) throw HttpProblem.of('InvalidRequest', 'the payer of the transaction is not a simulated PSP');
      const amount = body.amount ?? formatAmount(payment.amountCentavos);
      const r = await createRefund(sql, payment.debited, { transactionId: body.endToEndId, refundReason: body.reason ?? 'FRAUD', refundAmount: amount }, clock.now());
      if (!r.ok) throw HttpProblem.fromDomain(r.error);
      return { refund: refundOf(r.value) };
    }, { body: t.Object({ endToEndId: t.String(), amount: t.Optional(t.String()), reason: t.Optional(t.Union([t.Literal('FRAUD'), t.Literal('OPERATIONAL_FLAW')])) }) })
    .post('/transactions', async ({ body }) => {
      if (!END_TO_END_ID.test(body.endToEndId)) throw HttpProblem.of('InvalidRequest', 'endToEndId is not an EndToEndId', [{ field: 'endToEndId', rule: 'format' }]);
      const amount = parseAmount(body.amount);
      if (!amount.ok) throw HttpProblem.fromDomain(amount.error);
      const debited = body.debited ?? body.endToEndId.slice(1, 9);
      const settledAt = body.settledAt ? new Date(body.settledAt) : clock.now();
      await sql`insert into dict_transactions (end_to_end_id, debited, credited, amount_centavos, settled_at, credited_key)
                values (${body.endToEndId}, ${debited}, ${body.credited}, ${amount.value}, ${settledAt}, ${body.creditedKey ?? null})
                on conflict (end_to_end_id) do nothing`;
      return { endToEndId: body.endToEndId, debited, credited: body.credited, amount: body.amount, settledAt: settledAt.toISOString() };
    }, {
      body: t.Object({
        endToEndId: t.String(),
        debited: t.Optional(t.String({ pattern: '^[0-9A-Z]{8}$' })),
        credited: t.String({ pattern: '^[0-9A-Z]{8}$' }),
        amount: t.String(),
        settledAt: t.Optional(t.String({ format: 'date-time' })),
        creditedKey: t.Optional(t.String()),
      }),
    })
    .put('/participants/:ispb/category', async ({ params, body }) => {
      await setParticipantCategory(sql, params.ispb, body.category as ParticipantCategory);
      return { ispb: params.ispb, category: body.category };
    }, { body: t.Object({ category: t.Union(PARTICIPANT_CATEGORIES.map((c) => t.Literal(c))) }) });
}
