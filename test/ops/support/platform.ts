// The platform the ops tests look at: the SPI service with the BACEN sandbox (test/spi harness: real
// mTLS, real Postgres/NATS/Redis), and the settlement service (gateway + dashboard) on the same schema,
// Redis prefix and NATS streams, pointed at that SPI. Payments made through SPI show up in the dashboard
// exactly as in production: rows in `transactions`, events on PIX_PAYMENTS.
import { join } from 'node:path';
import { defaultTlsPaths } from '../../../shared/bacen/client.ts';
import { loadConfig, type Config } from '../../../shared/config.ts';
import { readPem } from '../../../shared/pki.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { createLogger, createMetrics } from '../../../shared/telemetry.ts';
import type { XmlSigner } from '../../../shared/xml/signer.ts';
import { createXmlSigner } from '../../../shared/xml/signer.ts';
import { createSettlementApp } from '../../../services/settlement/app.ts';
import { addUser } from '../../../services/settlement/auth/credentials.ts';
import type { Scope } from '../../../services/settlement/auth/principal.ts';
import { connectGateway, type Gateway } from '../../../services/settlement/gateway.ts';
import { createSettlementBacen } from '../../../services/settlement/str/client.ts';
import { TEST_JWT_KEYS } from '../../gateway/support.ts';
import { cpf, startSpi, type SpiHarness } from '../../spi/support/harness.ts';

export const PAYER = cpf('529982247');
export const PAYEE = cpf('111444777');

export interface OpsPlatform {
  spi: SpiHarness;
  /** the settlement service's config: the SPI's schema and prefixes, its port as SPI_PORT */
  config: Config;
  deps: ServiceDeps;
  gateway: Gateway;
  baseUrl: string;
  /** env for `bun cli/main.ts ...` against this platform */
  env: Record<string, string>;
  addUser(username: string, password: string, scopes: Scope[]): Promise<string>;
  /** an outbound payment of `amount` from the funded account 0001/1001 to ana@example.com */
  pay(amount: string): Promise<{ endToEndId: string; status: string }>;
  stop(): Promise<void>;
}

export async function startOpsPlatform(name: string): Promise<OpsPlatform> {
  const spi = await startSpi(name);
  const spiPort = new URL(spi.url).port;
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent', DB_SCHEMA: spi.config.dbSchema, REDIS_PREFIX: spi.config.redisPrefix, NATS_PREFIX: spi.config.natsPrefix,
    PKI_DIR: spi.sandbox.dir, BACEN_URL: spi.sandbox.baseUrl, JWT_KEYS: TEST_JWT_KEYS, SPI_PORT: spiPort,
    // nothing listens here: dict is not part of these tests, and the dashboard must say so rather than hang
    DICT_PORT: '1',
  };
  const config = loadConfig({ ...process.env, ...env });
  const deps: ServiceDeps = { ...spi.base, service: 'settlement', config, logger: createLogger('test-settlement', config.logLevel), metrics: createMetrics('settlement') };
  const gateway = await connectGateway(deps);
  const tls = defaultTlsPaths(spi.sandbox.dir);
  const signer: XmlSigner = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger: createLogger('test', 'silent') });
  const bacen = createSettlementBacen({
    bacen: spi.sandbox.client(), signer, ispb: config.ispb, bacenIspb: config.bacenIspb,
    trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(spi.sandbox.dir, 'bacen.crt')),
  });
  const app = createSettlementApp({ ...deps, gateway, bacen }).listen({ port: 0, hostname: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${app.server!.port}`;
  await spi.openAccount('0001', '1001', PAYER, '100000.00');
  await spi.registerKey('ana@example.com', 'EMAIL', { taxId: PAYEE, name: 'Ana Recebedora' });
  return {
    spi, config, deps, gateway, baseUrl, env: { ...env, SETTLEMENT_PORT: String(app.server!.port) },
    addUser: (username, password, scopes) => addUser(spi.base.sql, { username, password, scopes }),
    async pay(amount) {
      const r = await spi.http('POST', '/payments', { amount, debtor: { branch: '0001', number: '1001' }, creditor: { key: 'ana@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
      if (r.status !== 201) throw new Error(`payment: ${r.status} ${r.text}`);
      return r.json as { endToEndId: string; status: string };
    },
    async stop() {
      await app.stop(true);
      await gateway.close();
      await signer.close();
      await spi.stop();
    },
  };
}
