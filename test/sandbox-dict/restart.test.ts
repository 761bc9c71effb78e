import { afterAll, beforeAll, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createBacenClient } from '../../shared/bacen/client.ts';
import { OffsetClock } from '../../shared/clock.ts';
import * as M from '../../shared/dict/messages.ts';
import { createLogger } from '../../shared/telemetry.ts';
import { startSandbox, type RunningSandbox } from '../../services/bacen-sandbox/server.ts';
import { openSandboxStore } from '../../services/bacen-sandbox/store.ts';
import { buildSandboxDeps } from '../../services/bacen-sandbox/wiring.ts';
import type { Database } from '../../shared/db/client.ts';
import { FIXTURE_START_MS_MAX, startDictFixture, PSP, US, type DictFixture } from './support.ts';

let f: DictFixture;
let second: { sandbox: RunningSandbox; store: Database } | undefined;
beforeAll(async () => {
  f = await startDictFixture('sdict-restart');
}, FIXTURE_START_MS_MAX);
afterAll(async () => {
  if (second) {
    await second.sandbox.stop();
    await second.store.close();
  }
  await f?.t.stop();
});

test('a restarted sandbox on the same schema keeps entries, claims and their deadlines', async () => {
  const owner = { type: 'NATURAL_PERSON' as const, taxIdNumber: '52998224725', name: 'Maria' };
  const created = await f.call(f.us, 'POST', '/api/v2/entries/', M.CREATE_ENTRY_REQUEST.build({
    entry: { key: 'kept@fluxiq.dev', keyType: 'EMAIL', account: { participant: US, branch: '0001', accountNumber: '0000000042', accountType: 'CACC', openingDate: '2020-01-01T00:00:00.000Z' }, owner },
    reason: 'USER_REQUESTED',
    requestId: randomUUID(),
  }));
  expect(created.status).toBe(201);
  const claim = f.parse(M.CREATE_CLAIM_RESPONSE, await f.call(f.psp, 'POST', '/api/v2/claims/', M.CREATE_CLAIM_REQUEST.build({
    claim: { type: 'PORTABILITY', key: 'kept@fluxiq.dev', keyType: 'EMAIL', claimerAccount: { participant: PSP, branch: '0002', accountNumber: '0000000043', accountType: 'CACC', openingDate: '2021-01-01T00:00:00.000Z' }, claimer: owner },
  }))).claim;
  await f.call(f.us, 'POST', `/api/v2/claims/${claim.id}/acknowledge`, M.ACKNOWLEDGE_CLAIM_REQUEST.build({ claimId: claim.id, participant: US }));

  // stop the process's servers and start a new sandbox (new pool, new clock) on the same schema
  await f.t.sandbox.stop();
  const store = await openSandboxStore(f.t.deps.config);
  const clock = new OffsetClock();
  const deps = buildSandboxDeps({ config: f.t.deps.config, logger: createLogger('sandbox-restarted', 'silent'), clock, sql: store.sql, pki: f.t.pki, signer: f.t.deps.signer, verifier: f.t.verifier });
  const sandbox = await startSandbox(deps, f.t.pki, { host: '127.0.0.1', mtlsPort: 0, controlPort: 0 });
  second = { sandbox, store };
  const client = createBacenClient({ baseUrl: `https://127.0.0.1:${sandbox.mtlsPort}`, timeoutMs: 2_000, tls: { ...f.t.pki.participant, ca: f.t.pki.ca.cert }, logger: createLogger('t', 'silent') });
  const us = { ...f.us, client };
  try {
    const got = f.parse(M.GET_CLAIM_RESPONSE, await f.call(us, 'GET', `/api/v2/claims/${claim.id}`));
    expect(got.claim).toMatchObject({ status: 'WAITING_RESOLUTION', resolutionPeriodEnd: claim.resolutionPeriodEnd });
    const early = await f.call(us, 'POST', `/api/v2/claims/${claim.id}/cancel`, M.CANCEL_CLAIM_REQUEST.build({ claimId: claim.id, participant: US, reason: 'DEFAULT_OPERATION' }));
    expect(early.error).toBe('ClaimResolutionPeriodNotEnded');
    clock.advance(7 * 86_400_000);
    const late = await f.call(us, 'POST', `/api/v2/claims/${claim.id}/cancel`, M.CANCEL_CLAIM_REQUEST.build({ claimId: claim.id, participant: US, reason: 'DEFAULT_OPERATION' }));
    expect(f.parse(M.CANCEL_CLAIM_RESPONSE, late).claim.status).toBe('CANCELLED');
    const ours = f.parse(M.LIST_CLAIMS_RESPONSE, await f.call(us, 'GET', `/api/v2/claims/?Participant=${US}&IsDonor=true`));
    expect(ours.claims.map((c) => c.id)).toContain(claim.id);
  } finally {
    client.close();
  }
});
