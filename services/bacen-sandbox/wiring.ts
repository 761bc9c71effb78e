// Builds SandboxDeps from the few things that differ between main.ts and the tests.
import type { OffsetClock } from '../../shared/clock.ts';
import type { Sql } from 'postgres';
import type { Config } from '../../shared/config.ts';
import type { DevPki } from '../../shared/pki.ts';
import { fail, ok } from '../../shared/result.ts';
import type { Logger } from '../../shared/telemetry.ts';
import { verifyXmlSignatureFast } from '../../shared/xml/verify-fast.ts';
import { createConnectionTracker } from './connections/tracker.ts';
import type { SandboxDeps, XmlSigner, XmlVerifier } from './deps.ts';
import { createFaultStore } from './faults/store.ts';
import { createRequestJournal } from './journal/journal.ts';
import { createSandboxMetrics } from './metrics.ts';
import { registryFromPki } from './participants/registry.ts';

export function buildSandboxDeps(input: {
  config: Config;
  logger: Logger;
  clock: OffsetClock;
  sql: Sql<{ bigint: bigint }>;
  pki: DevPki;
  signer: XmlSigner;
  verifier: XmlVerifier;
  random?: () => number;
}): SandboxDeps {
  const metrics = createSandboxMetrics();
  return {
    config: input.config,
    logger: input.logger,
    clock: input.clock,
    sql: input.sql,
    signer: input.signer,
    verifier: input.verifier,
    metrics,
    registry: registryFromPki(input.pki, { ispb: input.config.ispb, bacenIspb: input.config.bacenIspb }),
    faults: createFaultStore(),
    journal: createRequestJournal(),
    connections: createConnectionTracker(input.clock, metrics),
    random: input.random ?? Math.random,
  };
}

/** shared/xml's verifier behind the sandbox's XmlVerifier: the signer must chain to the dev CA and be
 *  exactly the certificate given (the caller's TLS certificate). SPI messages in the profile's canonical
 *  form take the fast path (verify-fast.ts: one RSA verify instead of ~14 ms of xml-crypto); the rest,
 *  DICT documents included, the general verifier. */
export function sandboxVerifier(trustedCaPem: string): XmlVerifier {
  return {
    verify(xml, signerCertPem) {
      const checked = verifyXmlSignatureFast(xml, { trustedCaPem, certs: [signerCertPem] });
      return checked.ok ? ok({ ispb: checked.value.ispb }) : fail('RequestSignatureInvalid', checked.error.reason);
    },
  };
}
