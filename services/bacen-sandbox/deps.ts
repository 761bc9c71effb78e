// What the sandbox is built from. The single binary (main.ts) and the tests wire the same factory.
import type { OffsetClock } from '../../shared/clock.ts';
import type { Sql } from 'postgres';
import type { Config } from '../../shared/config.ts';
import type { Result } from '../../shared/result.ts';
import type { Logger } from '../../shared/telemetry.ts';
import type { ConnectionTracker } from './connections/tracker.ts';
import type { FaultStore } from './faults/store.ts';
import type { RequestJournal } from './journal/journal.ts';
import type { SandboxMetrics } from './metrics.ts';
import type { CertificateRegistry } from './participants/registry.ts';

/** BACEN's XMLDSig profile (PIX.md § Signatures): `signDict` puts the Signature under the root,
 *  `signSpi` in AppHdr/Sgntr. The shape of shared/xml/signer.ts's XmlSigner (structurally the same). */
export interface XmlSigner {
  sign(xml: string): Promise<Result<string>>;
  signDict(xml: string): Promise<Result<string>>;
  signSpi(xml: string): Promise<Result<string>>;
  close(): Promise<void>;
}

/** Checks an enveloped signature and that it was made with `signerCertPem` (the certificate the
 *  caller presented in TLS); returns the signer's ISPB. Adapts shared/xml/verify.ts (wiring.ts). */
export interface XmlVerifier {
  verify(xml: string, signerCertPem: string): Promise<Result<{ ispb: string | null }>> | Result<{ ispb: string | null }>;
}

export interface SandboxDeps {
  config: Config;
  logger: Logger;
  metrics: SandboxMetrics;
  /** real time plus an offset the control API advances (POST /clock/advance) */
  clock: OffsetClock;
  /** the sandbox's own schema (`<DB_SCHEMA>_bacen`, store.ts) */
  sql: Sql<{ bigint: bigint }>;
  /** signs with the `bacen` key */
  signer: XmlSigner;
  verifier: XmlVerifier;
  registry: CertificateRegistry;
  faults: FaultStore;
  journal: RequestJournal;
  connections: ConnectionTracker;
  /** source of randomness for fault rates; tests pass a fixed one */
  random: () => number;
}
