// Builds DictDeps from connected service deps and the PKI: the BACEN client (mTLS), our XML signer, the
// DICT API over them, and the confirmation sender. main.ts, the tests and the load test all use this.
import { join } from 'node:path';
import { createBacenClient, tlsPathsFromConfig, type BacenClient } from '../../shared/bacen/client.ts';
import { readPem } from '../../shared/pki.ts';
import type { ServiceDeps } from '../../shared/service.ts';
import { createXmlSigner, type XmlSigner } from '../../shared/xml/signer.ts';
import type { ConfirmationSender } from './confirmations/sender.ts';
import type { DictDeps } from './deps.ts';
import { createDictApi } from './dictapi/api.ts';
import { createDictTransport } from './dictapi/transport.ts';

export interface DictWiring {
  deps: DictDeps;
  bacen: BacenClient;
  signer: XmlSigner;
  close(): Promise<void>;
}

export async function wireDictDeps(base: ServiceDeps, sender: ConfirmationSender, opts: { bacenUrl?: string; signerThreads?: number } = {}): Promise<DictWiring> {
  const { config, logger } = base;
  const tls = tlsPathsFromConfig(config);
  const bacen = createBacenClient({ baseUrl: opts.bacenUrl ?? config.bacenUrl, timeoutMs: config.bacenTimeoutMs, tls, logger });
  const signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: opts.signerThreads ?? config.signerThreads, logger });
  const transport = createDictTransport({
    bacen,
    signer,
    trustedCaPem: readPem(tls.ca),
    bacenCertPem: readPem(join(config.pkiDir, 'bacen.crt')),
    bacenIspb: config.bacenIspb,
    logger,
  });
  const dict = createDictApi(transport, config);
  return {
    deps: { ...base, dict, sender },
    bacen,
    signer,
    async close() {
      bacen.close();
      await signer.close();
    },
  };
}
