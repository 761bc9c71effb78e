// One OpenAPI document for the public API on :4003 (the only port the portals use), served as JSON at
// /docs/json with a reference page at /docs. Routes defined here (auth, ops, ws) are described from
// their schemas; the forwarded /dict/* and /spi/* families are listed with their scopes from the route
// table, since their bodies are owned by the dict and spi services.
import { openapi } from '@elysiajs/openapi';
import { ROUTES } from '../routing/table.ts';

export const DOCS_PATH = '/docs';

function forwardedPaths(): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const path = `${r.prefix.replace(/\/$/, '')}/{path}`;
    paths[path] ??= { parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: `the ${r.upstream} service route` }] };
    for (const m of r.methods) {
      const method = m.toLowerCase();
      if (paths[path]![method] !== undefined) continue;
      paths[path]![method] = {
        tags: [r.upstream],
        summary: `Forwarded to the ${r.upstream} service (scope ${r.scope}, timeout ${r.timeoutMs} ms)`,
        security: [{ bearer: [r.scope] }],
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
        responses: {
          '2XX': { description: 'the upstream answer, as it is' },
          '401': { description: 'no, expired or invalid token (problem+json)' },
          '403': { description: `the token lacks ${r.scope}` },
          '429': { description: 'rate limit reached; Retry-After and RateLimit-* headers' },
          '503': { description: 'the upstream is unavailable (circuit open)' },
          '504': { description: 'the upstream did not answer in time' },
        },
      };
    }
  }
  return paths;
}

export function docsPlugin() {
  return openapi({
    path: DOCS_PATH,
    documentation: {
      info: {
        title: 'FluxiQ PIX public API',
        version: '0.1.0',
        description: 'Gateway of the FluxiQ PIX platform: every portal and system calls this API. Errors are RFC 9457 problem+json.',
      },
      tags: [
        { name: 'auth', description: 'tokens and sessions' },
        { name: 'dict', description: 'PIX keys, claims, MED (forwarded to the dict service)' },
        { name: 'spi', description: 'payments, returns, charges (forwarded to the spi service)' },
        { name: 'events', description: 'live events over WebSocket' },
      ],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
      paths: forwardedPaths() as never,
    },
  });
}
