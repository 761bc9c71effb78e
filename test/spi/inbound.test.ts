// Payments arriving from SPI: answered within the deadline, credited on SPI's ACSC, refused with the
// right reason, and a duplicate pacs.008 credited once.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import type { XmlSigner } from '../../services/bacen-sandbox/deps.ts';
import type { BacenClient } from '../../shared/bacen/client.ts';
import { spiEngineOf } from '../../services/bacen-sandbox/spi/engine.ts';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
let pspSigner: XmlSigner;
let pspClient: BacenClient;
const HOLDER = cpf('862365472');
const BLOCKED_HOLDER = cpf('471154380');
const SENDER = cpf('248438460');

beforeAll(async () => {
  h = await startSpi('spi-inbound');
  await h.openAccount('0002', '4001', HOLDER);
  await h.openAccount('0002', '4002', BLOCKED_HOLDER);
  await h.http('PATCH', '/accounts/0002/4002', { status: 'BLOCKED' });
  const files = h.sandbox.pki.psps[PSP]!;
  pspSigner = await h.sandbox.signerFor(files);
  pspClient = h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert });
}, 30_000);
afterAll(async () => h?.stop(), 30_000);

/** A simulated PSP's customer pays one of our accounts: a pacs.008 signed with the PSP's key. */
async function incoming(account: string, amountCentavos: bigint, taxId = HOLDER) {
  const now = new Date();
  const e2e = newEndToEndId(PSP, now);
  const msgId = newMsgId(PSP);
  const xml = buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: msgId, creDt: now }, {
    endToEndId: e2e, amountCentavos, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
    debtor: { name: 'Carla Pagadora', taxId: SENDER }, debtorAccount: { ispb: PSP, branch: '0001', number: '99887766', type: 'CACC' },
    creditor: { name: 'Cliente FluxiQ', taxId }, creditorAccount: { ispb: h.config.ispb, branch: '0002', number: account, type: 'CACC' },
  });
  const signed = await pspSigner.signSpi(xml);
  if (!signed.ok) throw new Error(signed.error.detail);
  const sent = await pspClient.request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value });
  if (!sent.ok) throw new Error(JSON.stringify(sent.error));
  return { e2e, msgId, xml: signed.value };
}

const row = async (e2e: string) => (await h.base.sql`select * from transactions where end_to_end_id = ${e2e}`)[0];
const ourAnswer = async (e2e: string) => (await h.base.sql`select signed_xml, created_at from spi_messages where end_to_end_id = ${e2e} and msg_type = 'pacs.002' and direction = 'OUT'`)[0];

describe('an inbound payment', () => {
  test('is answered well inside the 10 s deadline and credited once SPI settles it', async () => {
    const { e2e } = await incoming('4001', 2_500n);
    const settled = await h.until(async () => ((await row(e2e))?.status === 'SETTLED' ? row(e2e) : null));
    expect(settled).toMatchObject({ direction: 'INBOUND', amount_centavos: 2_500n, pacs002_status: 'ACSC', creditor_account: '4001' });
    const [received] = await h.base.sql`select created_at from spi_messages where end_to_end_id = ${e2e} and msg_type = 'pacs.008' and direction = 'IN'`;
    const answer = await ourAnswer(e2e);
    expect(answer!.signed_xml).toContain('<TxSts>ACSP</TxSts>');
    expect((answer!.created_at as Date).getTime() - (received!.created_at as Date).getTime()).toBeLessThan(1_000);
    expect((await h.http('GET', '/accounts/0002/4001/balance')).json.balance).toBe('25.00');
  });

  test('a duplicate pacs.008 (same EndToEndId) is answered again but credited once', async () => {
    const first = await incoming('4001', 1_000n);
    await h.until(async () => (await row(first.e2e))?.status === 'SETTLED');
    // SPI delivers the very same signed message a second time
    await (await spiEngineOf(h.sandbox.deps)).deliver(h.config.ispb, 'pacs.008', first.msgId, first.xml);
    await h.until(async () => (await h.base.sql`select count(*)::int as n from spi_messages where end_to_end_id = ${first.e2e} and msg_type = 'pacs.002' and direction = 'OUT'`)[0]!.n === 2);
    const [n] = await h.base.sql`select count(*)::int as n from ledger_entries where ref = ${'IN:' + first.e2e}`;
    expect(n!.n).toBe(2); // one double-entry posting: customer + clearing
    expect((await h.http('GET', '/accounts/0002/4001/balance')).json.balance).toBe('35.00');
  });

  test('to an unknown account is refused with AC03 and credits nothing', async () => {
    const { e2e } = await incoming('4999', 700n);
    const refused = await h.until(async () => ((await row(e2e))?.status === 'REJECTED' ? row(e2e) : null));
    expect(refused!.reject_reason).toBe('AC03');
    const answer = await h.until(() => ourAnswer(e2e));
    expect(answer.signed_xml).toContain('<TxSts>RJCT</TxSts>');
    expect(answer.signed_xml).toContain('<Cd>AC03</Cd>');
  });

  test('to a blocked account is refused with AC06 and credits nothing', async () => {
    const { e2e } = await incoming('4002', 700n, BLOCKED_HOLDER);
    const refused = await h.until(async () => ((await row(e2e))?.status === 'REJECTED' ? row(e2e) : null));
    expect(refused!.reject_reason).toBe('AC06');
    expect((await h.http('GET', '/accounts/0002/4002/balance')).json.balance).toBe('0.00');
  });
});
