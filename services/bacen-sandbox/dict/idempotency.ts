// RequestId idempotency (PIX.md § Keys; spec createEntry "Idempotência"): the first answer to a
// participant's RequestId is kept; the same RequestId with the same content replays it, with different
// content it is RequestIdAlreadyUsed. Failed requests are not kept, so a retry may still succeed.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import type { Clock } from '../../../shared/clock.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import { XmlReply } from '../signature/xml-reply.ts';

export function contentDigest(operation: string, value: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(JSON.stringify(value)).digest('base64');
}

export async function idempotent(
  deps: { sql: Sql<{ bigint: bigint }>; clock: Clock },
  key: { participant: string; requestId: string; operation: string; content: unknown },
  run: () => Promise<XmlReply>,
): Promise<XmlReply> {
  const digest = contentDigest(key.operation, key.content);
  const [seen] = await deps.sql<{ content_digest: string; status: number; response_xml: string }[]>`
    select content_digest, status, response_xml from dict_requests where participant = ${key.participant} and request_id = ${key.requestId}`;
  if (seen) {
    if (seen.content_digest !== digest) throw HttpProblem.of('RequestIdAlreadyUsed', `RequestId ${key.requestId} was already used with different content`);
    return new XmlReply(seen.response_xml, 'dict', seen.status);
  }
  const out = await run();
  await deps.sql`insert into dict_requests (participant, request_id, operation, content_digest, status, response_xml, at)
                 values (${key.participant}, ${key.requestId}, ${key.operation}, ${digest}, ${out.status}, ${out.xml}, ${deps.clock.now()})
                 on conflict do nothing`;
  return out;
}
