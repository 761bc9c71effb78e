// The control API: loopback only, validated fault rules, a bounded journal, the ops routes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createRequestJournal } from '../../services/bacen-sandbox/journal/journal.ts';
import { decideFault, type FaultRule } from '../../services/bacen-sandbox/faults/fault.ts';
import { startTestSandbox, type TestSandbox } from './support/harness.ts';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox('control');
});
afterAll(() => sb.stop());

describe('control API', () => {
  test('health, ready and metrics answer on the control port', async () => {
    expect((await sb.control('GET', '/health')).json.status).toBe('up');
    expect((await sb.control('GET', '/ready')).json.dependencies).toEqual({ mtls: 'ok' });
    const metrics = await (await fetch(`${sb.controlUrl}/metrics`)).text();
    expect(metrics).toContain('sandbox_tls_connections_total');
  });

  test('rates that add up to more than 1 are refused with a problem', async () => {
    const res = await sb.control('POST', '/faults', { errorRate: 0.6, resetRate: 0.6 });
    expect(res.status).toBe(400);
    expect(res.json.type).toEndWith('/InvalidRequest');
  });

  test('a rule for the same prefix replaces the previous one; DELETE /faults clears them all', async () => {
    await sb.control('POST', '/faults', { prefix: '/api/v2/echo', errorRate: 0.5 });
    await sb.control('POST', '/faults', { prefix: '/api/v2/echo', errorRate: 0.1 });
    const listed = (await sb.control('GET', '/faults')).json.rules as FaultRule[];
    expect(listed.map((r) => [r.prefix, r.errorRate])).toEqual([['/api/v2/echo', 0.1]]);
    expect((await sb.control('DELETE', '/faults')).status).toBe(204);
    expect((await sb.control('GET', '/faults')).json.rules).toEqual([]);
  });

  test('the journal records each mTLS request newest first with caller, method, path and status', async () => {
    await sb.control('DELETE', '/requests');
    const client = sb.client();
    await client.request('GET', '/api/v2/participants/self');
    await client.request('GET', '/api/v2/nowhere');
    const { json } = await sb.control('GET', '/requests');
    expect(json.entries.map((e: { path: string; status: number; callerIspb: string }) => [e.path, e.status, e.callerIspb])).toEqual([
      ['/api/v2/nowhere', 404, sb.deps.config.ispb],
      ['/api/v2/participants/self', 200, sb.deps.config.ispb],
    ]);
  });
});

describe('journal and fault decisions (pure)', () => {
  test('the journal keeps only the newest entries up to its capacity', () => {
    const journal = createRequestJournal(3);
    for (let i = 0; i < 5; i++) journal.record({ at: '', callerIspb: null, method: 'GET', path: `/${i}`, status: 200, bodyDigest: '', bodyBytes: 0 });
    expect(journal.recent(10).map((e) => e.path)).toEqual(['/4', '/3', '/2']);
  });

  test('the longest matching prefix wins and one draw splits reset, timeout and error by their rates', () => {
    const rules: FaultRule[] = [
      { id: 'g', prefix: '/', errorRate: 1, errorStatus: 503, timeoutRate: 0, resetRate: 0 },
      { id: 'e', prefix: '/api/v2/echo', errorRate: 0.2, errorStatus: 500, timeoutRate: 0.3, resetRate: 0.1, latency: { minMs: 10, maxMs: 20 } },
    ];
    const draw = (...values: number[]) => () => values.shift()!;
    expect(decideFault(rules, '/api/v2/participants/self', draw(0.99))).toMatchObject({ action: 'error', ruleId: 'g' });
    expect(decideFault(rules, '/api/v2/echo', draw(0.5, 0.05))).toEqual({ delayMs: 15, action: 'reset', ruleId: 'e' });
    expect(decideFault(rules, '/api/v2/echo', draw(0, 0.35))).toMatchObject({ delayMs: 10, action: 'timeout' });
    expect(decideFault(rules, '/api/v2/echo', draw(1, 0.55))).toMatchObject({ delayMs: 20, action: 'error', status: 500 });
    expect(decideFault(rules, '/api/v2/echo', draw(0, 0.7))).toMatchObject({ action: 'none' });
    expect(decideFault([], '/x', Math.random)).toEqual({ delayMs: 0, action: 'none' });
  });
});
