// The caller's own registration as the sandbox sees it: which ISPB its certificate carries.
import { Elysia } from 'elysia';
import type { Clock } from '../../../shared/clock.ts';
import { exchangePlugin } from '../transport/exchange.ts';
import { XmlReply, xmlDocument } from '../signature/xml-reply.ts';

export const participantRoutes = (deps: { clock: Clock }) =>
  new Elysia({ prefix: '/api/v2/participants' }).use(exchangePlugin).get('/self', ({ exchange: { caller } }) =>
    new XmlReply(
      xmlDocument('GetParticipantResponse', {
        ResponseTime: deps.clock.now().toISOString(),
        Ispb: caller.ispb,
        Name: caller.participant.name,
        Role: caller.participant.role,
        CertificateSerialNumber: caller.serialNumber,
      }),
    ),
  );
