// A sandbox on ephemeral ports over a PKI in a temp dir, plus the extra certificates the mTLS tests
// present (another CA's, an expired one, a revoked one, one with an ISPB the sandbox does not know).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsetClock } from '../../../shared/clock.ts';
import { dropSchema } from '../../../shared/db/migrate.ts';
import { openSandboxStore, sandboxSchema } from '../../../services/bacen-sandbox/store.ts';
import { createBacenClient, defaultTlsPaths, type BacenClient, type BacenClientOptions } from '../../../shared/bacen/client.ts';
import type { TlsPaths } from '../../../shared/bacen/material.ts';
import { createCa, ensureDevPki, issueCert, readPem, revokeCert, type DevPki } from '../../../shared/pki.ts';
import { createLogger } from '../../../shared/telemetry.ts';
import type { SandboxDeps, XmlSigner, XmlVerifier } from '../../../services/bacen-sandbox/deps.ts';
import { startSandbox, type RunningSandbox } from '../../../services/bacen-sandbox/server.ts';
import { buildSandboxDeps, sandboxVerifier } from '../../../services/bacen-sandbox/wiring.ts';
import { testConfig } from '../../support/env.ts';
import { copyOfCachedPki } from '../../support/pki.ts';
import { loadConfig } from '../../../shared/config.ts';
import { createXmlSigner } from '../../../shared/xml/signer.ts';

export const UNKNOWN_ISPB = '99999999';

export interface TestPki extends DevPki {
  rogue: TlsPaths;
  expired: TlsPaths;
  /** same CA, valid dates, listed in the CA's CRL (usable as client or server certificate) */
  revoked: TlsPaths;
  stranger: TlsPaths;
}

export function createTestPki(dir: string, ids: { ispb: string; bacenIspb: string }): TestPki {
  const pki = ensureDevPki(dir, ids);
  const otherCa = createCa(join(dir, 'other-ca'), 'Some Other CA');
  const rogue = issueCert(otherCa, join(dir, 'other-ca'), 'rogue', ids.ispb);
  // same CA, same ISPB, validity entirely in the past
  const expired = issueCert(pki.ca, join(dir, 'expired'), 'expired', ids.ispb, { startDate: '20200101000000Z', endDate: '20210101000000Z' });
  const revoked = issueCert(pki.ca, join(dir, 'revoked'), 'revoked', ids.ispb);
  revokeCert(pki.ca, revoked.cert);
  const stranger = issueCert(pki.ca, join(dir, 'stranger'), 'stranger', UNKNOWN_ISPB);
  const withCa = (f: { cert: string; key: string }) => ({ ...f, ca: pki.ca.cert });
  return { ...pki, rogue: withCa(rogue), expired: withCa(expired), revoked: withCa(revoked), stranger: withCa(stranger) };
}

export interface TestSandbox {
  dir: string;
  pki: TestPki;
  deps: SandboxDeps;
  sandbox: RunningSandbox;
  baseUrl: string;
  controlUrl: string;
  /** a BACEN client presenting `tls` (our participant's certificate by default) */
  client(tls?: TlsPaths, opts?: Partial<BacenClientOptions>): BacenClient;
  /** a signer with a participant's key, for signing requests (closed by stop) */
  signerFor(files: { cert: string; key: string }): Promise<XmlSigner>;
  verifier: XmlVerifier;
  control(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export interface TestSandboxOptions {
  random?: () => number;
  /** the certificate the mTLS port presents instead of `bacen` (the signer keeps bacen's key) */
  serverCert?: 'revoked';
}

export async function startTestSandbox(name: string, { serverCert, ...opts }: TestSandboxOptions = {}): Promise<TestSandbox> {
  const ids = loadConfig();
  const { dir, pki } = copyOfCachedPki(`sandbox-${ids.ispb}-${ids.bacenIspb}`, (d) => createTestPki(d, ids), `fluxiq-${name}-`);
  const config = testConfig(name, { PKI_DIR: dir });
  const logger = createLogger('bacen-sandbox-test', 'silent');
  const signers: XmlSigner[] = [];
  const signerFor = async (files: { cert: string; key: string }) => {
    // threads 0: RSA on the test's thread; these tests check behaviour, not signing throughput
    const signer = await createXmlSigner({ keyPem: readPem(files.key), certPem: readPem(files.cert), threads: 0 });
    signers.push(signer);
    return signer;
  };
  const verifier = sandboxVerifier(readPem(pki.ca.cert));
  const store = await openSandboxStore(config);
  const deps = buildSandboxDeps({ config, logger, clock: new OffsetClock(), sql: store.sql, pki, signer: await signerFor(pki.bacen), verifier, ...opts });
  const sandbox = await startSandbox(deps, serverCert ? { ...pki, bacen: pki[serverCert] } : pki, { host: '127.0.0.1', mtlsPort: 0, controlPort: 0 });
  const baseUrl = `https://127.0.0.1:${sandbox.mtlsPort}`;
  const controlUrl = `http://127.0.0.1:${sandbox.controlPort}`;
  const clients: BacenClient[] = [];
  return {
    dir,
    pki,
    deps,
    sandbox,
    baseUrl,
    controlUrl,
    verifier,
    signerFor,
    client(tls = defaultTlsPaths(dir), o = {}) {
      const c = createBacenClient({ baseUrl, timeoutMs: 2_000, tls, logger, ...o });
      clients.push(c);
      return c;
    },
    async control(method, path, body) {
      const res = await fetch(controlUrl + path, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async stop() {
      for (const c of clients) c.close();
      await sandbox.stop();
      await Promise.all(signers.map((s) => s.close()));
      await dropSchema(store.sql, sandboxSchema(config));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
