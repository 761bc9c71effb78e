// The mTLS port refuses every client that cannot prove, with a dev-CA certificate valid now and not in
// the CA's revocation list, which participant it is; the caller's ISPB comes from that certificate and
// nowhere else.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { startTestSandbox, UNKNOWN_ISPB, type TestSandbox } from './support/harness.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox('mtls');
});
afterAll(() => sb.stop());

/** One raw fetch (no pooling) presenting `files`, so each case is its own handshake. */
async function rawFetch(files?: { cert: string; key: string }): Promise<{ status?: number; error?: string }> {
  const tls = { ca: readFileSync(sb.pki.ca.cert, 'utf8'), ...(files ? { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') } : {}) };
  try {
    const res = await fetch(`${sb.baseUrl}/api/v2/participants/self`, { tls, keepalive: false });
    await res.text();
    return { status: res.status };
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  }
}

async function lastHandshakeFailure(): Promise<string | undefined> {
  const { json } = await sb.control('GET', '/connections');
  return json.recentHandshakeFailures[0]?.code;
}

describe('mTLS handshake', () => {
  test('a client without a certificate is refused during the handshake', async () => {
    const out = await rawFetch();
    expect(out.status).toBeUndefined();
    expect(out.error).toBeDefined();
    expect(await lastHandshakeFailure()).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  });

  test('a certificate issued by another CA is refused during the handshake', async () => {
    const out = await rawFetch(sb.pki.rogue);
    expect(out.status).toBeUndefined();
    expect(await lastHandshakeFailure()).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('an expired certificate from the dev CA is refused during the handshake', async () => {
    const out = await rawFetch(sb.pki.expired);
    expect(out.status).toBeUndefined();
    expect(await lastHandshakeFailure()).toBe('CERT_HAS_EXPIRED');
  });

  test('a dev-CA certificate listed in the CA revocation list is refused during the handshake', async () => {
    const out = await rawFetch(sb.pki.revoked);
    expect(out.status).toBeUndefined();
    expect(await lastHandshakeFailure()).toBe('CERT_REVOKED');
  });

  test('a refused handshake never reaches the API: nothing is journaled', async () => {
    await sb.control('DELETE', '/requests');
    await rawFetch(sb.pki.rogue);
    await rawFetch(sb.pki.expired);
    await rawFetch(sb.pki.revoked);
    await rawFetch();
    const { json } = await sb.control('GET', '/requests');
    expect(json.entries).toEqual([]);
  });

  test('a valid dev-CA certificate is accepted and the caller ISPB is taken from its subject', async () => {
    const res = await sb.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.status).toBe(200);
    expect(res.value.body).toContain(`<Ispb>${sb.deps.config.ispb}</Ispb>`);
    expect(res.value.body).toContain('<Role>participant</Role>');
  });

  test('each simulated PSP is known and identified by its own certificate', async () => {
    const psps = Object.entries(sb.pki.psps);
    expect(psps.length).toBeGreaterThanOrEqual(5);
    for (const [ispb, files] of psps) {
      const res = await sb.client({ ...files, ca: sb.pki.ca.cert }).request('GET', '/api/v2/participants/self');
      expect(res.ok && res.value.body).toContain(`<Ispb>${ispb}</Ispb>`);
    }
  });

  test('a dev-CA certificate whose ISPB is not a known participant is answered 403', async () => {
    const res = await sb.client(sb.pki.stranger).request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.kind).toBe('http');
    expect(res.error.status).toBe(403);
    expect(res.error.problem?.detail).toContain(UNKNOWN_ISPB);
  });
});
