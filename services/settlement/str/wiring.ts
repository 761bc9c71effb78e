// BACEN for the settlement service from config and the PKI: the mTLS client, our signer (on the calling
// thread: settlement signs a handful of STR requests a day, a worker pool would be idle) and the CA and
// BACEN certificates its answers are verified against.
import { join } from 'node:path';
import { bacenClientFromConfig, defaultTlsPaths } from '../../../shared/bacen/client.ts';
import { readPem } from '../../../shared/pki.ts';
import type { ServiceDeps } from '../../../shared/service.ts';
import { createXmlSigner } from '../../../shared/xml/signer.ts';
import { createSettlementBacen, type SettlementBacen } from './client.ts';

export async function wireSettlementBacen(deps: Pick<ServiceDeps, 'config' | 'logger'>): Promise<{ bacen: SettlementBacen; close(): Promise<void> }> {
  const { config, logger } = deps;
  const tls = defaultTlsPaths(config.pkiDir);
  const client = bacenClientFromConfig(config, logger, tls);
  const signer = await createXmlSigner({ keyPem: readPem(tls.key), certPem: readPem(tls.cert), threads: 0, logger });
  const bacen = createSettlementBacen({ bacen: client, signer, ispb: config.ispb, bacenIspb: config.bacenIspb, trustedCaPem: readPem(tls.ca), bacenCertPem: readPem(join(config.pkiDir, 'bacen.crt')) });
  return {
    bacen,
    async close() {
      client.close();
      await signer.close();
    },
  };
}
