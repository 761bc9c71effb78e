// A write that does nothing but prove the pipeline: mTLS identity, request signature check, signed
// reply. It acknowledges who called and the digest of what arrived, so a test can compare both.
import { Elysia } from 'elysia';
import type { Clock } from '../../../shared/clock.ts';
import { exchangePlugin } from '../transport/exchange.ts';
import { XmlReply, xmlDocument } from '../signature/xml-reply.ts';

export const echoRoutes = (deps: { clock: Clock }) =>
  new Elysia({ prefix: '/api/v2' }).use(exchangePlugin).post('/echo', ({ exchange }) =>
    new XmlReply(
      xmlDocument('EchoResponse', {
        ResponseTime: deps.clock.now().toISOString(),
        CallerIspb: exchange.caller.ispb,
        ReceivedDigestSha256: exchange.bodyDigest,
        ReceivedBytes: Buffer.byteLength(exchange.body),
      }),
    ),
  );
