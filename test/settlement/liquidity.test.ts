import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock.ts';
import { defaultTlsPaths } from '../../shared/bacen/client.ts';
import { streamName } from '../../shared/nats/index.ts';
import { readPem } from '../../shared/pki.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import { Registry } from 'prom-client';
import type { BatchConsumer } from '../../shared/nats/index.ts';
import { createLiquidityMonitor, type LiquidityMonitor } from '../../services/settlement/liquidity/monitor.ts';
import { startLiquidityWebhook } from '../../services/settlement/liquidity/webhook.ts';
import { verifyWebhook } from '../../services/spi/webhooks/signature.ts';
import { evaluate, forecast, initialLiquidity, type LiquidityPolicy } from '../../services/settlement/liquidity/policy.ts';
import { createSettlementBacen, type SettlementBacen } from '../../services/settlement/str/client.ts';
import { migratedTestDb, type TestDb } from '../db/support.ts';
import { eventually, natsFixture, type NatsFixture } from '../nats/fixture.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';
import { testConfig } from '../support/env.ts';

const OURS = '12345678';
const POLICY: LiquidityPolicy = { warningCentavos: 100_000_00n, criticalCentavos: 20_000_00n, topUpCentavos: 1_000_00n, topUpsPerDayMax: 2, forecastHorizonMs: 15 * 60_000 };
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('liquidity policy', () => {
  test('levels follow the thresholds; an alert goes out only when the level changes', () => {
    const noForecast = { ...POLICY, forecastHorizonMs: 0 };
    let s = initialLiquidity();
    const step = (balance: bigint, atMs: number) => { const d = evaluate(s, { atMs, balanceCentavos: balance }, noForecast); s = d.state; return d; };
    expect(step(500_000_00n, T0).alert).toBeUndefined();
    expect(step(90_000_00n, T0 + 1).alert).toMatchObject({ level: 'WARNING', forecasted: false });
    expect(step(80_000_00n, T0 + 2).alert).toBeUndefined();
    const recovered = step(150_000_00n, T0 + 3);
    expect(recovered.alert?.level).toBe('OK');
    expect(recovered.state.episode).toBeNull();
  });

  test('the forecast projects the recent outflow and warns before the balance itself is low', () => {
    const samples = [{ atMs: T0, balanceCentavos: 200_000_00n }, { atMs: T0 + 60_000, balanceCentavos: 190_000_00n }];
    expect(forecast(samples, 15 * 60_000)).toBe(40_000_00n); // 10,000.00 a minute for 15 minutes
    expect(forecast([{ atMs: T0, balanceCentavos: 1n }, { atMs: T0 + 1, balanceCentavos: 5n }], 60_000)).toBe(5n); // inflows do not raise it
    let s = initialLiquidity();
    s = evaluate(s, { atMs: T0, balanceCentavos: 200_000_00n }, POLICY).state;
    const d = evaluate(s, { atMs: T0 + 60_000, balanceCentavos: 180_000_00n }, POLICY); // 20,000.00/min → below critical within 15 min
    expect(d.alert).toMatchObject({ level: 'WARNING', forecasted: true });
    expect(d.topUp).toBeUndefined(); // a forecast warns; only a real CRITICAL balance moves money
  });

  test('a critical balance triggers one top-up per episode and at most topUpsPerDayMax a day', () => {
    let s = initialLiquidity();
    const step = (balance: bigint, atMs: number) => { const d = evaluate(s, { atMs, balanceCentavos: balance }, POLICY); s = d.state; return d; };
    const first = step(10_000_00n, T0);
    expect(first.topUp).toEqual({ transferId: `TOPUP-${first.state.episode}`, amountCentavos: 1_000_00n });
    expect(step(11_000_00n, T0 + 1).topUp).toBeUndefined(); // same episode
    step(500_000_00n, T0 + 2); // recovered: the episode ends
    expect(step(10_000_00n, T0 + 3).topUp).toBeDefined(); // a new episode, second top-up of the day
    step(500_000_00n, T0 + 4);
    expect(step(10_000_00n, T0 + 5).topUp).toBeUndefined(); // the day's cap
    step(500_000_00n, T0 + 86_400_000);
    expect(step(10_000_00n, T0 + 86_400_001).topUp).toBeDefined(); // a new day
  });
});

describe('liquidity monitor against the BACEN sandbox', () => {
  let sandbox: TestSandbox;
  let nats: NatsFixture;
  let signer: XmlSigner;
  let bacen: SettlementBacen;
  let monitor: LiquidityMonitor;
  let db: TestDb;
  let webhook: BatchConsumer;
  let receiver: ReturnType<typeof Bun.serve>;
  /** what the treasury's webhook receiver got: `kind[:level]` of each signed event */
  const hooked: string[] = [];
  const WEBHOOK_SECRET = 'treasury-webhook-secret-0123456789abcdef';
  const config = testConfig('liquidity');

  const accounts = async () => ((await sandbox.control('GET', '/spi/accounts')).json as { accounts: { ispb: string; balanceCentavos: string; reserveCentavos: string }[] }).accounts.find((a) => a.ispb === OURS)!;
  const setBalance = async (centavos: bigint) => expect((await sandbox.control('PUT', `/spi/accounts/${OURS}`, { balanceCentavos: String(centavos) })).status).toBeLessThan(300);

  beforeAll(async () => {
    sandbox = await startTestSandbox('liquidity');
    db = await migratedTestDb('liquidity');
    nats = await natsFixture(config, 'liquidity');
    const tls = defaultTlsPaths(sandbox.dir);
    signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: nats.logger });
    bacen = createSettlementBacen({ bacen: sandbox.client(), signer, ispb: OURS, bacenIspb: config.bacenIspb, trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(sandbox.dir, 'bacen.crt')) });
    const clock = new ManualClock(T0);
    monitor = createLiquidityMonitor({ sql: db.sql, bacen, js: nats.js, config, clock, logger: nats.logger, policy: POLICY });
    receiver = Bun.serve({
      port: 0, hostname: '127.0.0.1',
      async fetch(req) {
        const body = await req.text();
        if (!verifyWebhook(WEBHOOK_SECRET, req.headers.get('x-fluxiq-signature') ?? '', body, Math.floor(clock.nowMs() / 1000))) return new Response(null, { status: 401 });
        const e = JSON.parse(body) as { kind: string; level?: string };
        hooked.push(e.level ? `${e.kind}:${e.level}` : e.kind);
        return new Response(null, { status: 204 });
      },
    });
    webhook = await startLiquidityWebhook({ js: nats.js, config, clock, logger: nats.logger, registry: new Registry() }, { url: `http://127.0.0.1:${receiver.port}/hook`, secret: WEBHOOK_SECRET });
  }, 30_000);
  afterAll(async () => {
    await webhook?.stop();
    receiver?.stop(true);
    await signer?.close();
    await nats?.close();
    await sandbox?.stop();
    await db?.cleanup();
  });

  test('the balance is read from a signed camt.052', async () => {
    await setBalance(123_456_78n);
    expect(await bacen.balance()).toMatchObject({ ok: true, value: { balanceCentavos: 123_456_78n } });
  });

  test('below the critical mark: the alert is published and the STR top-up happens once, not on every reading', async () => {
    await setBalance(15_000_00n);
    const reserveBefore = BigInt((await accounts()).reserveCentavos);
    const first = await monitor.check();
    expect(first).toMatchObject({ alert: { level: 'CRITICAL' }, topUp: { amountCentavos: 1_000_00n } });
    expect(await accounts()).toMatchObject({ balanceCentavos: '1600000', reserveCentavos: String(reserveBefore - 1_000_00n) });
    const second = await monitor.check(); // still critical after the top-up: no second transfer
    expect(second).not.toHaveProperty('topUp');
    expect(second).not.toHaveProperty('alert');
    expect(await accounts()).toMatchObject({ balanceCentavos: '1600000', reserveCentavos: String(reserveBefore - 1_000_00n) });

    const recorded = await db.sql<{ id: string; status: string; origin: string; amount_centavos: bigint }[]>`select id, status, origin, amount_centavos from str_transfers`;
    expect([...recorded]).toEqual([{ id: `TOPUP-${first && 'state' in first ? first.state.episode : ''}`, status: 'APPLIED', origin: 'AUTO_TOPUP', amount_centavos: 1_000_00n }]);

    await setBalance(500_000_00n);
    expect(await monitor.check()).toMatchObject({ alert: { level: 'OK' } });

    const kinds: string[] = [];
    const stream = await nats.jsm.streams.info(streamName(config, 'settlement'));
    for (let seq = stream.state.first_seq; seq <= stream.state.last_seq; seq++) {
      const m = await nats.jsm.streams.getMessage(streamName(config, 'settlement'), { seq });
      const data = m.json<{ kind: string; level?: string; channel: string }>();
      expect(data.channel).toBe('liquidity');
      kinds.push(data.level ? `${data.kind}:${data.level}` : data.kind);
    }
    expect(kinds).toEqual(['alert:CRITICAL', 'topup', 'alert:OK']);
    // and the same events reached the treasury's webhook, signed
    await eventually('the webhook got the three events', () => hooked.length === 3);
    expect(hooked).toEqual(['alert:CRITICAL', 'topup', 'alert:OK']);
  });

  test('the same TransferId is applied once by BACEN', async () => {
    const a = await bacen.transfer({ id: 'TOPUP-test-replay', direction: 'TO_PI', amountCentavos: 1_00n });
    const b = await bacen.transfer({ id: 'TOPUP-test-replay', direction: 'TO_PI', amountCentavos: 1_00n });
    expect(a).toMatchObject({ ok: true, value: { replayed: false } });
    expect(b).toMatchObject({ ok: true, value: { replayed: true, piCentavos: a.ok ? a.value.piCentavos : -1n } });
  });
});
