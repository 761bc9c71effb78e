// Spi service: instant payments: outbound pacs.008 and their pacs.002, inbound payments, returns, BR Codes,
// positions and webhooks. createSpiApp builds the runtime (store, positions, account authority, payment
// engine, inbox pollers, webhooks) from the deps and mounts the feature plugins; start() runs the workers.
// camt.053 end-of-day statements are not fetched here: reconciliation (services/settlement/recon) asks SPI
// for the day's camt.053 itself and compares it with transactions/spi_returns/str_transfers.
import { Elysia } from 'elysia';
import type { BacenClient } from '../../shared/bacen/client.ts';
import { problemPlugin } from '../../shared/errors.ts';
import { createIdempotencyStore, redisKey } from '../../shared/redis/index.ts';
import { dependencyChecks, type ServiceDeps } from '../../shared/service.ts';
import { opsPlugin } from '../../shared/telemetry.ts';
import type { XmlSigner } from '../../shared/xml/signer.ts';
import type { AccountAuthority } from './accounts/authority.ts';
import { createHttpAuthority } from './accounts/http-authority.ts';
import { createLedgerAuthority } from './accounts/ledger-authority.ts';
import { accountRoutes } from './accounts/routes.ts';
import { createDispatcher } from './inbound/dispatch.ts';
import { createInboundPayments } from './inbound/payments.ts';
import { startPollers, type Pollers } from './inbound/poller.ts';
import type { KeyResolver } from './keys/resolver.ts';
import type { SpiLink } from './messages/link.ts';
import { messageRoutes } from './messages/routes.ts';
import { createSandboxLink, INBOX_WAIT_MS } from './messages/sandbox-link.ts';
import { createPaymentEngine, type PaymentEngine } from './payments/engine.ts';
import { createPaymentEvents, type PaymentEvents } from './payments/events.ts';
import { createTimeoutResolver, type ResolverOptions, type TimeoutResolver } from './payments/resolver.ts';
import { paymentRoutes } from './payments/routes.ts';
import { createSpiStore, type SpiStore } from './pipeline/store.ts';
import { createPositions, type Positions } from './positions/positions.ts';
import { positionRoutes } from './positions/routes.ts';
import { createSpiVerifier } from './messages/verify.ts';
import { qrRoutes } from './qr/routes.ts';
import { createReturns, type Returns } from './returns/returns.ts';
import { returnRoutes } from './returns/routes.ts';
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookOptions } from './webhooks/dispatcher.ts';
import { webhookRoutes } from './webhooks/routes.ts';

/** Idempotency-Key answers are replayed for a day (clients retry within minutes; a day covers outages). */
export const IDEMPOTENCY_TTL_S = 24 * 60 * 60;

export interface SpiDeps extends ServiceDeps {
  bacen: BacenClient;
  /** our participant key: pacs.008/pacs.002/pacs.004 */
  signer: Pick<XmlSigner, 'signSpi'>;
  resolver: KeyResolver;
  /** CA that issues every SPI/PSP certificate (ICP-Brasil; the dev CA here) */
  trustedCaPem: string;
  /** our key and certificate for the charge JWS */
  qrKeys: { keyPem: string; certPem: string };
  /** overrides for tests and load tests */
  options?: {
    authority?: AccountAuthority;
    link?: SpiLink;
    syncWaitMs?: number;
    answerTimeoutMs?: number;
    /** payment requests in flight before 429 (payments/routes.ts INTAKE_IN_FLIGHT_MAX) */
    intakeInFlightMax?: number;
    pollers?: number;
    /** long-poll wait of the inbox pulls (default INBOX_WAIT_MS, at most half of BACEN_TIMEOUT_MS); stop() waits up to it */
    inboxWaitMs?: number;
    qrFetchScheme?: 'https' | 'http';
    webhooks?: WebhookOptions;
    /** the TIMED_OUT resolver's delay/retry/tick (payments/resolver.ts) */
    resolver?: ResolverOptions;
  };
}

export interface SpiRuntime {
  store: SpiStore;
  positions: Positions;
  authority: AccountAuthority;
  engine: PaymentEngine;
  resolver: TimeoutResolver;
  returns: Returns;
  events: PaymentEvents;
  webhooks: WebhookDispatcher;
  pollers: Pollers | null;
  /** loads positions, re-drives open payments, starts pollers and webhook delivery */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSpiApp(deps: SpiDeps) {
  const { logger, metrics, config, sql, redis, clock } = deps;
  const o = deps.options ?? {};
  const store = createSpiStore(sql, logger, clock);
  const positions = createPositions({ sql, redis, redisPrefix: config.redisPrefix, logger });
  const authority = o.authority ?? (config.spiAccountAuthority === 'http'
    ? createHttpAuthority({ baseUrl: config.coreBankingUrl, secret: config.coreBankingSecret, timeoutMs: config.coreBankingTimeoutMs, defaultDecision: config.coreBankingDefault, logger })
    : createLedgerAuthority(positions));
  const link = o.link ?? createSandboxLink(deps.bacen, config.ispb, { waitMs: Math.min(o.inboxWaitMs ?? INBOX_WAIT_MS, Math.floor(config.bacenTimeoutMs / 2)) });
  const events = createPaymentEvents(deps.js, config, logger);
  const syncWaitMs = o.syncWaitMs ?? config.spiSyncWaitMs;
  const engine = createPaymentEngine({
    config, clock, logger, sql, store, authority, signer: deps.signer, link, events,
    options: { syncWaitMs, answerTimeoutMs: o.answerTimeoutMs ?? config.spiAnswerTimeoutMs },
  });
  const verifier = createSpiVerifier(deps.trustedCaPem);
  const resolver = createTimeoutResolver({ config, clock, logger, engine, link, signer: deps.signer, verifier, ...(o.resolver ? { options: o.resolver } : {}) });
  const inbound = createInboundPayments({ config, clock, logger, sql, store, authority, signer: deps.signer, link, events });
  const returns = createReturns({ config, clock, logger, sql, store, authority, signer: deps.signer, link, engine });
  const dispatch = createDispatcher({ config, trustedCaPem: deps.trustedCaPem, logger, engine, inbound, returns, store, clock });
  const webhooks = createWebhookDispatcher({ sql, js: deps.js, config, clock, logger }, o.webhooks);
  const idempotency = createIdempotencyStore(redis, { prefix: redisKey(config, 'spi', 'idem'), ttlS: IDEMPOTENCY_TTL_S });
  const qrFetchScheme = o.qrFetchScheme ?? 'https';

  const runtime: SpiRuntime = {
    store, positions, authority, engine, resolver, returns, events, webhooks, pollers: null,
    async start() {
      await positions.load();
      await engine.recover();
      await returns.recover();
      engine.start();
      resolver.start();
      runtime.pollers = startPollers({ link, count: o.pollers ?? config.spiPollers, dispatch, logger });
      await webhooks.start();
    },
    async stop() {
      await runtime.pollers?.stop();
      await webhooks.stop();
      await resolver.stop();
      await engine.stop();
      await store.stop();
      await events.drain();
      await authority.close();
      await positions.close();
    },
  };

  const app = new Elysia({ name: 'spi' })
    .use(problemPlugin((error, path) => logger.error({ err: error, path }, 'unexpected error')))
    .use(opsPlugin({ service: 'spi', metrics, checks: dependencyChecks(deps) }))
    .use(paymentRoutes({
      engine, idempotency, resolver: deps.resolver, syncWaitMs, logger,
      ...(o.intakeInFlightMax !== undefined ? { intakeInFlightMax: o.intakeInFlightMax } : {}),
      order: {
        resolver: deps.resolver, clock, trustedCaPem: deps.trustedCaPem, qrFetchScheme,
        defaultPayerId: (branch, number) => positions.get(branch, number)?.holderTaxId ?? null,
      },
    }))
    .use(returnRoutes(returns))
    .use(accountRoutes({ sql, positions, store }))
    .use(qrRoutes({
      sql, clock, resolver: deps.resolver, payloadHost: config.qrPayloadHost, ourIspb: config.ispb,
      keyPem: deps.qrKeys.keyPem, certPem: deps.qrKeys.certPem, trustedCaPem: deps.trustedCaPem, fetchScheme: qrFetchScheme,
    }))
    .use(webhookRoutes({ sql, dispatcher: webhooks }))
    .use(messageRoutes(sql))
    .use(positionRoutes({ bacen: deps.bacen, ispb: config.ispb, bacenIspb: config.bacenIspb, verifier, store, clock }));
  return Object.assign(app, { runtime });
}
