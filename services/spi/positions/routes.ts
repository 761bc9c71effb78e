// GET /positions/pi — our settlement (PI) account at SPI, read live as a signed camt.052: the balance the
// payments above draw on. The message is verified like any inbox message and kept as evidence.
import { Elysia } from 'elysia';
import type { BacenClient } from '../../../shared/bacen/client.ts';
import type { Clock } from '../../../shared/clock.ts';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatSignedAmount } from '../../../shared/money.ts';
import { parseCamt052 } from '../../../shared/spi/camt052.ts';
import type { SpiVerifier } from '../messages/verify.ts';
import type { SpiStore } from '../pipeline/store.ts';

export function positionRoutes(deps: { bacen: BacenClient; ispb: string; bacenIspb: string; verifier: SpiVerifier; store: SpiStore; clock: Clock }) {
  return new Elysia({ prefix: '/positions', detail: { tags: ['positions'] } }).get('/pi', async () => {
    const r = await deps.bacen.request('GET', `/api/v1/balance/${deps.ispb}`);
    if (!r.ok) throw HttpProblem.of(r.error.kind === 'timeout' ? 'UpstreamTimeout' : 'ServiceUnavailable', `SPI balance unavailable: ${r.error.detail}`);
    const xml = r.value.body;
    const verified = deps.verifier.verify(xml);
    if (!verified.ok || verified.ispb !== deps.bacenIspb) throw HttpProblem.of('ServiceUnavailable', `SPI balance refused: ${verified.ok ? `signed by ${verified.ispb}` : verified.reason}`);
    const parsed = parseCamt052(xml);
    if (!parsed.ok) throw HttpProblem.of('ServiceUnavailable', `SPI balance unreadable: ${parsed.error.detail}`);
    const c = parsed.value.message;
    if (c.accountIspb !== deps.ispb) throw HttpProblem.of('ServiceUnavailable', `SPI answered the balance of ${c.accountIspb}`);
    await deps.store.write({ kind: 'messages', messages: [{ msg_id: parsed.value.header.bizMsgIdr, msg_type: 'camt.052', direction: 'IN', end_to_end_id: null, signed_xml: xml, created_at: deps.clock.now() }] });
    return { ispb: c.accountIspb, balance: formatSignedAmount(c.balanceCentavos), at: c.at.toISOString(), reportId: c.reportId };
  }, { detail: { summary: 'Our PI account balance at SPI (camt.052, verified)' } });
}
