// Every write must be signed by the caller with the certificate it presented in TLS; every XML body the
// sandbox sends is signed with the `bacen` key and verifies.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readPem } from '../../shared/pki.ts';
import { startTestSandbox, type TestSandbox } from './support/harness.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox('signatures');
});
afterAll(() => sb.stop());

const ECHO_BODY = '<EchoRequest><Text>ola</Text></EchoRequest>';

/** ECHO_BODY signed (DICT placement) with the key of `files`. */
async function signed(files: { cert: string; key: string }): Promise<string> {
  const out = await (await sb.signerFor(files)).signDict(ECHO_BODY);
  if (!out.ok) throw new Error(out.error.detail);
  return out.value;
}

describe('request signatures', () => {
  test('an unsigned write is refused with RequestSignatureInvalid', async () => {
    const res = await sb.client().request('POST', '/api/v2/echo', { body: ECHO_BODY });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.status).toBe(400);
    expect(res.error.problem?.type).toEndWith('/RequestSignatureInvalid');
  });

  test('a write with no body at all is refused with RequestSignatureInvalid', async () => {
    const res = await sb.client().request('POST', '/api/v2/echo');
    expect(!res.ok && res.error.problem?.type).toEndWith('/RequestSignatureInvalid');
  });

  test("a write signed with another participant's key is refused with RequestSignatureInvalid", async () => {
    const body = await signed(sb.pki.psps['10000001']!);
    const res = await sb.client().request('POST', '/api/v2/echo', { body });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.problem?.type).toEndWith('/RequestSignatureInvalid');
    expect(res.error.problem?.detail).toContain("against the caller's certificate");
  });

  test('a signed write whose content was altered after signing is refused', async () => {
    const body = await signed(sb.pki.participant);
    const res = await sb.client().request('POST', '/api/v2/echo', { body: body.replace('ola', 'tchau') });
    expect(!res.ok && res.error.problem?.type).toEndWith('/RequestSignatureInvalid');
  });

  test("a write signed with the caller's own certificate is accepted and acknowledged with its ISPB and digest", async () => {
    const body = await signed(sb.pki.participant);
    const res = await sb.client().request('POST', '/api/v2/echo', { body });
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.body).toContain(`<CallerIspb>${sb.deps.config.ispb}</CallerIspb>`);
    const digest = createHash('sha256').update(body).digest('base64');
    expect(res.value.body).toContain(`<ReceivedDigestSha256>${digest}</ReceivedDigestSha256>`);
    const { json } = await sb.control('GET', '/requests?limit=1');
    expect(json.entries[0]).toMatchObject({ callerIspb: sb.deps.config.ispb, method: 'POST', path: '/api/v2/echo', status: 200, bodyDigest: digest });
  });
});

describe('response signatures', () => {
  test('responses carry a signature by the bacen certificate that verifies', async () => {
    const res = await sb.client().request('GET', '/api/v2/participants/self');
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.value.headers['content-type']).toStartWith('application/xml');
    const verified = await sb.verifier.verify(res.value.body, readPem(sb.pki.bacen.cert));
    expect(verified).toEqual({ ok: true, value: { ispb: sb.deps.config.bacenIspb } });
  });
});
