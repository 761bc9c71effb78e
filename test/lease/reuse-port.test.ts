// Several instances of a service share its port when LISTEN_REUSE_PORT=on (what `fluxiq up --instances N`
// sets): the kernel spreads new connections over them. Without it a second bind fails, so a platform
// started twice by mistake does not silently share a port.
import { afterAll, expect, test } from 'bun:test';
import { Elysia } from 'elysia';
import { listenOptions } from '../../shared/service.ts';

const apps: { stop: (closeActiveConnections: boolean) => Promise<unknown> }[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop(true);
});

function instance(id: string, port: number, reusePort: boolean) {
  const app = new Elysia().get('/who', () => id).listen(listenOptions(port, '127.0.0.1', reusePort));
  apps.push(app);
  return app;
}

test('two instances with reusePort bind one port and both answer', async () => {
  const first = instance('a', 0, true);
  const port = first.server!.port!;
  instance('b', port, true);
  const seen = new Set<string>();
  // a fresh connection each time, so the kernel picks an instance per request
  for (let i = 0; i < 200 && seen.size < 2; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/who`, { keepalive: false, headers: { connection: 'close' } });
    seen.add(await res.text());
  }
  expect([...seen].sort()).toEqual(['a', 'b']);
});

test('without reusePort a second instance on a busy port fails to bind', () => {
  const first = instance('c', 0, false);
  expect(() => instance('d', first.server!.port!, false)).toThrow();
});
