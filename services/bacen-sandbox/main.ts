// BACEN sandbox binary: dev PKI from config.pkiDir (created if missing), the mTLS API on
// config.sandboxPort and the control API on 127.0.0.1:config.sandboxControlPort.
import { OffsetClock } from '../../shared/clock.ts';
import type { Config } from '../../shared/config.ts';
import { ensureDevPki, readPem } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import { seedDictOnStart } from './dict/routes.ts';
import { startSandbox } from './server.ts';
import { openSandboxStore } from './store.ts';
import { buildSandboxDeps, sandboxVerifier } from './wiring.ts';

/** The bind address of the mTLS port: loopback, like BACEN's sandbox is reachable only from our side. */
const MTLS_HOST = '127.0.0.1';

export async function run(config: Config): Promise<void> {
  const logger = createLogger('bacen-sandbox', config.logLevel);
  const pki = ensureDevPki(config.pkiDir, { ispb: config.ispb, bacenIspb: config.bacenIspb });
  const signer = await createXmlSigner({ keyPem: readPem(pki.bacen.key), certPem: readPem(pki.bacen.cert), threads: config.signerThreads, logger });
  const store = await openSandboxStore(config, logger);
  const deps = buildSandboxDeps({ config, logger, clock: new OffsetClock(), sql: store.sql, pki, signer, verifier: sandboxVerifier(readPem(pki.ca.cert)) });
  const sandbox = await startSandbox(deps, pki, { host: MTLS_HOST, mtlsPort: config.sandboxPort, controlPort: config.sandboxControlPort });
  // the simulated PSPs' DICT entries for load tests, in the background (only those absent are inserted)
  void seedDictOnStart(deps).catch((err: unknown) => logger.error({ err }, 'seeding DICT entries failed'));

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'BACEN sandbox stopping');
    await sandbox.stop();
    await signer.close();
    await store.close();
    process.exit(0);
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
