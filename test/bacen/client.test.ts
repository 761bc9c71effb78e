// The BACEN client: connections are reused, failures come back as values of the right kind, the
// concurrency bound answers at once when full, a renewed certificate is used without a restart, and a
// server whose certificate the CA revoked is refused.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBacenClient, defaultTlsPaths } from '../../shared/bacen/client.ts';
import { ConfigError } from '../../shared/config.ts';
import { revokeCert, writeCrl, type CertFiles } from '../../shared/pki.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox('bacen-client');
});
afterAll(() => sb.stop());
beforeEach(async () => {
  await sb.control('DELETE', '/faults');
});

const accepted = async (): Promise<number> => (await sb.control('GET', '/connections')).json.acceptedTotal;

describe('connection reuse', () => {
  test('200 sequential requests share one mTLS connection (one handshake)', async () => {
    const client = sb.client();
    const before = await accepted();
    for (let i = 0; i < 200; i++) {
      const res = await client.request('GET', '/api/v2/participants/self');
      expect(res.ok).toBe(true);
    }
    expect((await accepted()) - before).toBe(1);
  });

  test('64 concurrent requests open at most 64 connections and reuse them for the next round', async () => {
    const client = sb.client();
    const before = await accepted();
    for (let round = 0; round < 3; round++) {
      const all = await Promise.all(Array.from({ length: 64 }, () => client.request('GET', '/api/v2/participants/self')));
      expect(all.every((r) => r.ok)).toBe(true);
    }
    expect((await accepted()) - before).toBeLessThanOrEqual(64);
  });
});

describe('failures are values', () => {
  test('a request the sandbox holds without answering ends as {kind: timeout} at the deadline', async () => {
    await sb.control('POST', '/faults', { prefix: '/api/v2/participants', timeoutRate: 1 });
    const client = sb.client(undefined, { timeoutMs: 300 });
    const started = performance.now();
    const res = await client.request('GET', '/api/v2/participants/self');
    const elapsed = performance.now() - started;
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.kind).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
  });

  test('a connection the sandbox resets ends as {kind: connect}', async () => {
    await sb.control('POST', '/faults', { resetRate: 1 });
    const res = await sb.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.kind).toBe('connect');
  });

  test('an injected 5xx ends as {kind: http} with the status and the problem', async () => {
    await sb.control('POST', '/faults', { prefix: '/api/v2/participants', errorRate: 1, errorStatus: 502 });
    const res = await sb.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.kind).toBe('http');
    expect(res.error.status).toBe(502);
    expect(res.error.problem?.type).toEndWith('/ServiceUnavailable');
  });

  test('a fault on one route prefix leaves other routes alone', async () => {
    await sb.control('POST', '/faults', { prefix: '/api/v2/echo', errorRate: 1 });
    const res = await sb.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(true);
  });

  test('injected latency delays the answer by the configured range', async () => {
    await sb.control('POST', '/faults', { latencyMs: { min: 150, max: 200 } });
    const client = sb.client();
    const started = performance.now();
    const res = await client.request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  test('a server whose certificate is not from the pinned CA fails as {kind: tls}', async () => {
    // pin a CA that did not issue the sandbox's certificate (and no CRL: the dev CA's would not verify against it)
    const { crl: _devCaCrl, ...paths } = { ...defaultTlsPaths(sb.dir), ca: sb.pki.rogue.cert };
    const res = await sb.client(paths).request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.kind).toBe('tls');
  });

  test('nothing listening ends as {kind: connect}', async () => {
    const { createBacenClient } = await import('../../shared/bacen/client.ts');
    const { createLogger } = await import('../../shared/telemetry.ts');
    const client = createBacenClient({ baseUrl: 'https://127.0.0.1:1', timeoutMs: 1_000, tls: defaultTlsPaths(sb.dir), logger: createLogger('t', 'silent') });
    const res = await client.request('GET', '/x');
    client.close();
    expect(!res.ok && res.error.kind).toBe('connect');
  });

  test('past the queue bound a request is refused at once with {kind: queue-full}', async () => {
    await sb.control('POST', '/faults', { latencyMs: 300 });
    const client = sb.client(undefined, { inFlightMax: 2, queuedMax: 2 });
    const calls = Array.from({ length: 6 }, () => client.request('GET', '/api/v2/participants/self'));
    const results = await Promise.all(calls);
    const kinds = results.map((r) => (r.ok ? 'ok' : r.error.kind));
    expect(kinds.filter((k) => k === 'ok').length).toBe(4);
    expect(kinds.filter((k) => k === 'queue-full').length).toBe(2);
  });
});

describe('certificate reload', () => {
  test('a renewed key file that group or others may read is not loaded; the previous identity stays in use', async () => {
    const dir = join(sb.dir, 'loose-renewal');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const paths = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: sb.pki.ca.cert };
    copyFileSync(sb.pki.participant.cert, paths.cert);
    copyFileSync(sb.pki.participant.key, paths.key);
    const client = sb.client(paths, { certCheckMs: 100 });
    const next = sb.pki.psps['10000004']!;
    copyFileSync(next.cert, paths.cert);
    copyFileSync(next.key, paths.key);
    chmodSync(paths.key, 0o644);
    await Bun.sleep(400);
    expect(client.identity().ispb).toBe(sb.deps.config.ispb);
    expect(client.stats().reloads).toBe(0);
    chmodSync(paths.key, 0o600); // mended: the mode is part of what the watcher compares
    const deadline = Date.now() + 3_000;
    while (client.identity().ispb !== '10000004' && Date.now() < deadline) await Bun.sleep(50);
    expect(client.identity().ispb).toBe('10000004');
  });

  test('replacing the certificate files switches the identity on the next request without a restart', async () => {
    const dir = join(sb.dir, 'rotating');
    mkdirSync(dir, { recursive: true });
    const paths = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: sb.pki.ca.cert };
    copyFileSync(sb.pki.participant.cert, paths.cert);
    copyFileSync(sb.pki.participant.key, paths.key);
    const client = sb.client(paths, { certCheckMs: 200 });

    const first = await client.request('GET', '/api/v2/participants/self');
    expect(first.ok && first.value.body).toContain(`<Ispb>${sb.deps.config.ispb}</Ispb>`);

    const next = sb.pki.psps['10000002']!;
    copyFileSync(next.key, paths.key);
    copyFileSync(next.cert, paths.cert);
    const deadline = Date.now() + 3_000;
    while (client.identity().ispb !== '10000002' && Date.now() < deadline) await Bun.sleep(50);
    expect(client.identity().ispb).toBe('10000002');
    expect(client.stats().reloads).toBe(1);

    const second = await client.request('GET', '/api/v2/participants/self');
    expect(second.ok && second.value.body).toContain('<Ispb>10000002</Ispb>');
  });

  test('a key that does not match the certificate is not loaded; the previous identity stays in use', async () => {
    const dir = join(sb.dir, 'half-written');
    mkdirSync(dir, { recursive: true });
    const paths = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key'), ca: sb.pki.ca.cert };
    copyFileSync(sb.pki.participant.cert, paths.cert);
    copyFileSync(sb.pki.participant.key, paths.key);
    const client = sb.client(paths, { certCheckMs: 100 });
    copyFileSync(sb.pki.psps['10000003']!.cert, paths.cert); // new certificate, old key
    await Bun.sleep(400);
    expect(client.identity().ispb).toBe(sb.deps.config.ispb);
    const res = await client.request('GET', '/api/v2/participants/self');
    expect(res.ok && res.value.body).toContain(`<Ispb>${sb.deps.config.ispb}</Ispb>`);
  });
});

/** The dev CA's key and certificate in a directory of their own, whose CRL (and CA database) starts empty. */
function caWithEmptyCrl(name: string): { ca: CertFiles; crl: string } {
  const dir = join(sb.dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  copyFileSync(sb.pki.ca.cert, ca.cert);
  copyFileSync(sb.pki.ca.key, ca.key);
  return { ca, crl: writeCrl(ca) };
}

describe('revocation', () => {
  let revokedServer: TestSandbox;
  beforeAll(async () => {
    revokedServer = await startTestSandbox('bacen-client-revoked', { serverCert: 'revoked' });
  });
  afterAll(() => revokedServer.stop());

  test('a server presenting a certificate the CA revoked fails as {kind: tls, code: CERT_REVOKED}', async () => {
    const res = await revokedServer.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.kind).toBe('tls');
    expect(res.error.code).toBe('CERT_REVOKED');
    expect(res.error.detail).toContain('is revoked by');
  });

  test('the same server is reached when no CRL is configured: the refusal is the CRL check', async () => {
    const { crl: _none, ...withoutCrl } = defaultTlsPaths(revokedServer.dir);
    const client = revokedServer.client(withoutCrl);
    expect(client.identity().crl).toBeNull();
    const res = await client.request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(true);
  });

  test('a CRL re-issued while the client runs is used on its next connection', async () => {
    const { ca, crl } = caWithEmptyCrl('crl-reload');
    const client = revokedServer.client({ ...defaultTlsPaths(revokedServer.dir), crl }, { certCheckMs: 200 });
    expect(client.identity().crl?.revoked).toBe(0);
    expect((await client.request('GET', '/api/v2/participants/self')).ok).toBe(true);

    revokeCert(ca, revokedServer.pki.revoked.cert);
    const deadline = Date.now() + 3_000;
    while (client.identity().crl?.revoked !== 1 && Date.now() < deadline) await Bun.sleep(50);
    expect(client.identity().crl?.revoked).toBe(1);
    expect(client.stats().reloads).toBe(1);
    const res = await client.request('GET', '/api/v2/participants/self');
    expect(!res.ok && res.error.code).toBe('CERT_REVOKED');
  });

  test('past its Next Update the CRL refuses every server (as OpenSSL does): {kind: tls, code: CRL_HAS_EXPIRED}', async () => {
    const { ca } = caWithEmptyCrl('crl-expired');
    const crl = writeCrl(ca, { lastUpdate: '20200101000000Z', nextUpdate: '20200201000000Z' });
    const res = await sb.client({ ...defaultTlsPaths(sb.dir), crl }).request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.kind).toBe('tls');
    expect(res.error.code).toBe('CRL_HAS_EXPIRED');
  });

  test('a CRL not signed by the pinned CA stops the client from starting, naming the file', () => {
    const crl = writeCrl({ cert: join(sb.dir, 'other-ca', 'ca.crt'), key: join(sb.dir, 'other-ca', 'ca.key') });
    const start = () => createBacenClient({ baseUrl: sb.baseUrl, timeoutMs: 1_000, tls: { ...defaultTlsPaths(sb.dir), crl }, logger: createLogger('t', 'silent') });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(`CRL ${crl} is not a CRL signed by`);
  });
});
