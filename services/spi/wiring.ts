// Builds the SPI-specific dependencies (BACEN client, our signer, the DICT key resolver, the trusted CA)
// on top of the shared service deps. main.ts, the load test and the tests use it or its parts.
import { join } from 'node:path';
import { bacenClientFromConfig, defaultTlsPaths } from '../../shared/bacen/client.ts';
import type { ConnectedDeps } from '../../shared/service.ts';
import { ensureDevPki, readPem } from '../../shared/pki.ts';
import { createXmlSigner } from '../../shared/xml/signer.ts';
import type { SpiDeps } from './app.ts';
import { createHttpKeyResolver } from './keys/resolver.ts';

export async function wireSpiDeps(base: ConnectedDeps, options: SpiDeps['options'] = {}): Promise<{ deps: SpiDeps; close(): Promise<void> }> {
  const { config } = base;
  ensureDevPki(config.pkiDir, { ispb: config.ispb, bacenIspb: config.bacenIspb });
  const tls = defaultTlsPaths(config.pkiDir);
  const keyPem = readPem(tls.key);
  const certPem = readPem(tls.cert);
  const signer = await createXmlSigner({ keyPem, certPem, threads: config.signerThreads, logger: base.logger });
  const bacen = bacenClientFromConfig(config, base.logger);
  // the DICT service resolves keys (anti-scan, cache, book transfers); it listens on DICT_PORT
  const resolver = createHttpKeyResolver(`http://${config.bindHost === '0.0.0.0' ? '127.0.0.1' : config.bindHost}:${config.dictPort}`);
  const deps: SpiDeps = { ...base, bacen, signer, resolver, trustedCaPem: readPem(join(config.pkiDir, 'ca.crt')), qrKeys: { keyPem, certPem }, options };
  return {
    deps,
    async close() {
      bacen.close();
      await signer.close();
    },
  };
}
