// Control API of the sandbox SPI (plain HTTP, loopback): balances, simulated receivers' rules, message
// faults, traffic generation, settings, and what happened to a payment.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { REJECT_REASON_CODES } from '../../../shared/spi/pacs002.ts';
import type { SandboxDeps } from '../deps.ts';
import { NO_MESSAGE_FAULTS, SIMULATED_RULES_MAX, spiEngineOf } from './engine.ts';
import { setBalance } from './store.ts';
import { startTraffic, TRAFFIC_RATE_PER_S_MAX, TRAFFIC_SECONDS_MAX, type TrafficRun } from './traffic.ts';

const rate = t.Optional(t.Number({ minimum: 0, maximum: 1 }));
const Rule = t.Object({
  ispb: t.Optional(t.String({ pattern: '^[0-9A-Z]{8}$' })),
  account: t.Optional(t.String({ pattern: '^\\d{1,20}$' })),
  decision: t.Union([t.Literal('accept'), t.Literal('reject'), t.Literal('timeout')]),
  reason: t.Optional(t.Union(REJECT_REASON_CODES.map((c) => t.Literal(c)))),
  latencyMs: t.Optional(t.Integer({ minimum: 0, maximum: 60_000 })),
});

export const spiControlRoutes = (deps: SandboxDeps) => {
  const runs: TrafficRun[] = [];
  return new Elysia({ prefix: '/spi' })
    .get('/accounts', async () => {
      await spiEngineOf(deps);
      const rows = await deps.sql<{ ispb: string; balance_centavos: bigint; reserve: bigint }[]>`
        select a.ispb, a.balance_centavos, r.balance_centavos as reserve from spi_accounts a join spi_reserves r using (ispb) order by a.ispb`;
      return { accounts: rows.map((r) => ({ ispb: r.ispb, balanceCentavos: String(r.balance_centavos), reserveCentavos: String(r.reserve) })) };
    })
    .put('/accounts/:ispb', async ({ params: { ispb }, body }) => {
      await spiEngineOf(deps);
      const done = await setBalance(deps.sql, ispb, BigInt(body.balanceCentavos), deps.clock.now(), `ADJ${Date.now()}`);
      if (!done) throw HttpProblem.of('NotFound', `no PI account for ${ispb}`);
      return { ispb, balanceCentavos: body.balanceCentavos };
    }, { params: t.Object({ ispb: t.String({ pattern: '^[0-9A-Z]{8}$' }) }), body: t.Object({ balanceCentavos: t.String({ pattern: '^(0|[1-9]\\d{0,17})$' }) }) })
    .get('/rules', async () => ({ rules: (await spiEngineOf(deps)).rules }))
    .put('/rules', async ({ body }) => {
      const engine = await spiEngineOf(deps);
      engine.setRules(body.rules);
      return { rules: engine.rules };
    }, { body: t.Object({ rules: t.Array(Rule, { maxItems: SIMULATED_RULES_MAX }) }) })
    .get('/faults', async () => ({ faults: (await spiEngineOf(deps)).faults }))
    .put('/faults', async ({ body }) => {
      const engine = await spiEngineOf(deps);
      const f = { ...NO_MESSAGE_FAULTS, ...body };
      if (f.lostRate + f.malformedRate + f.badSignatureRate > 1) throw HttpProblem.of('InvalidRequest', 'lostRate + malformedRate + badSignatureRate must not exceed 1', [{ field: 'lostRate', rule: 'sum' }]);
      engine.setFaults(f);
      return { faults: f };
    }, { body: t.Object({ lostRate: rate, duplicateRate: rate, malformedRate: rate, badSignatureRate: rate, latencyMs: t.Optional(t.Integer({ minimum: 0, maximum: 60_000 })) }) })
    .delete('/faults', async ({ set }) => {
      (await spiEngineOf(deps)).setFaults(NO_MESSAGE_FAULTS);
      set.status = 204;
    })
    .get('/settings', async () => (await spiEngineOf(deps)).settings)
    .put('/settings', async ({ body }) => {
      const engine = await spiEngineOf(deps);
      if (body.receiverTimeoutMs !== undefined) engine.settings.receiverTimeoutMs = body.receiverTimeoutMs;
      return engine.settings;
    }, { body: t.Object({ receiverTimeoutMs: t.Optional(t.Integer({ minimum: 1, maximum: 60_000 })) }) })
    .get('/stats', async () => {
      const engine = await spiEngineOf(deps);
      return { ...engine.stats, awaiting: engine.awaitingCount(), settleQueue: engine.settler.pending, inboxQueue: engine.inbox.pending };
    })
    // our answers to the pacs.008s delivered to us: count, deadline misses (AB03) and each latency (ms from
    // the message entering our inbox to our pacs.002 arriving); DELETE starts a new measurement
    .get('/answers', async () => {
      const { answers } = await spiEngineOf(deps);
      return { answered: answers.answered, missed: answers.missed, latenciesMs: answers.latenciesMs.map((v) => Math.round(v * 100) / 100) };
    })
    .delete('/answers', async ({ set }) => {
      (await spiEngineOf(deps)).resetAnswers();
      set.status = 204;
    })
    .post('/traffic', async ({ body, set }) => {
      const engine = await spiEngineOf(deps);
      const run = startTraffic(deps, engine, { ratePerS: body.ratePerS, seconds: body.seconds, returnsShare: body.returnsShare ?? 0 });
      runs.push(run);
      set.status = 202;
      return { total: Math.round(body.ratePerS * body.seconds) };
    }, { body: t.Object({ ratePerS: t.Number({ exclusiveMinimum: 0, maximum: TRAFFIC_RATE_PER_S_MAX }), seconds: t.Number({ exclusiveMinimum: 0, maximum: TRAFFIC_SECONDS_MAX }), returnsShare: rate }) })
    .post('/traffic/wait', async () => {
      await Promise.all(runs.map((r) => r.done));
      const engine = await spiEngineOf(deps);
      await engine.settler.drain();
      await engine.inbox.drain();
      return { generated: engine.stats.generated };
    })
    .delete('/traffic', ({ set }) => {
      for (const r of runs) r.stop();
      set.status = 204;
    })
    .get('/payments/:endToEndId', async ({ params: { endToEndId } }) => {
      await spiEngineOf(deps);
      const [p] = await deps.sql<{ status: string; reason: string | null; amount_centavos: bigint; returned_centavos: bigint; debtor_ispb: string; creditor_ispb: string }[]>`
        select status, reason, amount_centavos, returned_centavos, debtor_ispb, creditor_ispb from spi_payments where end_to_end_id = ${endToEndId}`;
      if (!p) throw HttpProblem.of('NotFound', `no decided payment ${endToEndId}`);
      return { endToEndId, status: p.status, reason: p.reason, amountCentavos: String(p.amount_centavos), returnedCentavos: String(p.returned_centavos), debtorIspb: p.debtor_ispb, creditorIspb: p.creditor_ispb };
    }, { params: t.Object({ endToEndId: t.String({ maxLength: 32 }) }) });
};
