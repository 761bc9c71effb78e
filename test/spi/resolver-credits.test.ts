// The SPI resolver gives anti-scan tokens back in batches: the credits of CREDIT_FLUSH_MS go to the DICT
// service in one POST /lookups/credits (one HTTP request per payment was most of the DICT service's CPU per
// payment), and a DICT service that is down costs nothing but the credits (best effort).
import { afterAll, expect, test } from 'bun:test';
import { CREDIT_BATCH_MAX, createHttpKeyResolver } from '../../services/spi/keys/resolver.ts';

const received: unknown[] = [];
const dict = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(req) {
    if (new URL(req.url).pathname !== '/lookups/credits') return new Response(null, { status: 404 });
    received.push(await req.json());
    return new Response(null, { status: 204 });
  },
});
afterAll(() => dict.stop(true));

test('credits made together go in one request; more than a batch go in several', async () => {
  const resolver = createHttpKeyResolver(`http://127.0.0.1:${dict.port}`);
  await Promise.all([resolver.paymentSent('11144477735', 'PHONE'), resolver.paymentSent('11144477735', 'EVP'), resolver.paymentSent('52998224725', 'CPF')]);
  expect(received).toEqual([{ credits: [{ payerId: '11144477735', keyType: 'PHONE' }, { payerId: '11144477735', keyType: 'EVP' }, { payerId: '52998224725', keyType: 'CPF' }] }]);
  received.length = 0;
  await Promise.all(Array.from({ length: CREDIT_BATCH_MAX + 1 }, () => resolver.paymentSent('11144477735', 'PHONE')));
  expect(received.map((r) => (r as { credits: unknown[] }).credits.length)).toEqual([CREDIT_BATCH_MAX, 1]);
});

test('a DICT service that is down loses the credits and nothing else', async () => {
  const resolver = createHttpKeyResolver('http://127.0.0.1:1', 500);
  await resolver.paymentSent('11144477735', 'PHONE');
});
