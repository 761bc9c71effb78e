// The gateway's per-request cost: GET /dict/* through the gateway (JWT verify, revocation Map, leased
// rate limit, scope, signed principal header, forward, answer back) against the same upstream hit
// directly, both driven by wrk in the same run. The gateway, the upstream and wrk share the two cores.
// Prints a table; the LAST line is one JSON object: gateway_per_s, direct_per_s, ratio, p50_ms, p99_ms,
// redis_calls_per_request.
// Usage: bun loadtest/gateway.ts [--seconds 5] [--connections 64]
// Needs Postgres/Redis/NATS (as for the tests) and `wrk` (Debian: apt-get install -y wrk).
import { spawnSync } from 'node:child_process';
import { startGateway } from '../test/gateway/support.ts';
import { numberFlag } from './lib/args.ts';

const SECONDS = numberFlag('seconds', 5, 3_600);
const CONNECTIONS = numberFlag('connections', 64, 4_096);
if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install -y wrk)');

const upstream = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ key: 'x', ok: true }) });
const gw = await startGateway('loadtest', { upstreams: { dict: `http://127.0.0.1:${upstream.port}`, spi: `http://127.0.0.1:${upstream.port}` } });
// a tier wide enough that the run measures the limiter's cost, not its refusals
await gw.deps.sql`insert into rate_limit_tiers (name, requests_max, window_ms) values ('loadtest', 100000, 60000)`;
await gw.gateway.tiers.reload();
await gw.addClient('load-client', 'load-client-secret-0123456789', ['dict:read'], 'loadtest');
const token = ((await (await gw.token({ grant_type: 'client_credentials', client_id: 'load-client', client_secret: 'load-client-secret-0123456789' })).json()) as { access_token: string }).access_token;

async function wrk(url: string, headers: string[]): Promise<{ rps: number; p50Ms: number; p99Ms: number; requests: number; non2xx: number }> {
  const proc = Bun.spawn(['wrk', '-t', '1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url], { stdout: 'pipe', stderr: 'pipe' });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const ms = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  return { rps, p50Ms: ms('50'), p99Ms: ms('99'), requests, non2xx };
}

const direct = await wrk(`http://127.0.0.1:${upstream.port}/keys/x`, []);
const callsBefore = gw.gateway.limiter.redisCalls;
const through = await wrk(`${gw.baseUrl}/dict/keys/x`, [`Authorization: Bearer ${token}`]);
const redisCalls = gw.gateway.limiter.redisCalls - callsBefore;

console.log('path                 req/s     p50 ms   p99 ms   non-2xx');
console.log(`direct upstream   ${direct.rps.toFixed(0).padStart(8)} ${direct.p50Ms.toFixed(2).padStart(9)} ${direct.p99Ms.toFixed(2).padStart(8)} ${String(direct.non2xx).padStart(9)}`);
console.log(`through gateway   ${through.rps.toFixed(0).padStart(8)} ${through.p50Ms.toFixed(2).padStart(9)} ${through.p99Ms.toFixed(2).padStart(8)} ${String(through.non2xx).padStart(9)}`);
await gw.stop();
upstream.stop(true);
console.log(JSON.stringify({
  gateway_per_s: Math.round(through.rps), direct_per_s: Math.round(direct.rps), ratio: Number((through.rps / direct.rps).toFixed(2)),
  p50_ms: through.p50Ms, p99_ms: through.p99Ms, non2xx: through.non2xx, redis_calls_per_request: Number((redisCalls / Math.max(1, through.requests)).toFixed(3)),
}));
process.exit(0);
