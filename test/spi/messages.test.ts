// Every SPI message, both directions, is stored byte for byte and verifies with xmlsec1;
// ./fluxiq messages show <EndToEndId> prints them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR } from '../../shared/config.ts';
import { newEndToEndId, newMsgId } from '../../shared/ids.ts';
import { buildPacs008 } from '../../shared/spi/pacs008.ts';
import { cpf, PSP, startSpi, type SpiHarness } from './support/harness.ts';

let h: SpiHarness;
let dir: string;
const HOLDER = cpf('601234569');

beforeAll(async () => {
  h = await startSpi('spi-messages');
  dir = mkdtempSync(join(tmpdir(), 'fluxiq-spi-msgs-'));
  await h.openAccount('0006', '8001', HOLDER, '20.00');
  await h.registerKey('hugo@example.com', 'EMAIL', { taxId: cpf('720396418'), name: 'Hugo Recebedor' });
}, 30_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h?.stop();
}, 30_000);

function xmlsecVerify(xml: string, i: number): { ok: boolean; err: string } {
  const file = join(dir, `m${i}.xml`);
  writeFileSync(file, xml);
  const p = Bun.spawnSync(['xmlsec1', '--verify', '--trusted-pem', h.sandbox.pki.ca.cert, '--id-attr:Id', 'AppHdr', '--id-attr:Id', 'Document', file], { stdout: 'pipe', stderr: 'pipe' });
  return { ok: p.exitCode === 0, err: p.stderr.toString() };
}

describe('stored SPI messages', () => {
  test('both directions are kept byte for byte, each verifies with xmlsec1, and the CLI prints them', async () => {
    const out = await h.http('POST', '/payments', { amount: '2.00', debtor: { branch: '0006', number: '8001' }, creditor: { key: 'hugo@example.com' } }, { 'idempotency-key': crypto.randomUUID() });
    expect(out.json.status).toBe('SETTLED');
    const now = new Date();
    const inE2e = newEndToEndId(PSP, now);
    const files = h.sandbox.pki.psps[PSP]!;
    const pspSigner = await h.sandbox.signerFor(files);
    const signed = await pspSigner.signSpi(buildPacs008({ from: PSP, to: h.config.bacenIspb, bizMsgIdr: newMsgId(PSP), creDt: now }, {
      endToEndId: inE2e, amountCentavos: 300n, acceptedAt: now, initiationForm: 'MANU', priority: 'HIGH',
      debtor: { name: 'Ivo', taxId: cpf('314159265') }, debtorAccount: { ispb: PSP, branch: '0001', number: '1', type: 'CACC' },
      creditor: { name: 'Cliente', taxId: HOLDER }, creditorAccount: { ispb: h.config.ispb, branch: '0006', number: '8001', type: 'CACC' },
    }));
    if (!signed.ok) throw new Error(signed.error.detail);
    const posted = await h.sandbox.client({ ...files, ca: h.sandbox.pki.ca.cert }).request('POST', `/api/v1/out/${PSP}/msgs`, { body: signed.value });
    expect(posted.ok).toBe(true);
    await h.until(async () => (await h.base.sql`select status from transactions where end_to_end_id = ${inE2e}`)[0]?.status === 'SETTLED');

    const rows = await h.base.sql`select msg_type, direction, end_to_end_id, signed_xml from spi_messages where end_to_end_id in (${out.json.endToEndId}, ${inE2e}) order by id`;
    expect(rows.map((r) => `${r.direction} ${r.msg_type}`).sort()).toEqual(['IN pacs.002', 'IN pacs.002', 'IN pacs.008', 'OUT pacs.002', 'OUT pacs.008'].sort());
    rows.forEach((r, i) => expect({ type: r.msg_type, dir: r.direction, ...xmlsecVerify(r.signed_xml, i) }).toMatchObject({ ok: true }));
    // the inbound pacs.008 is exactly what the payer PSP signed
    expect(rows.find((r) => r.msg_type === 'pacs.008' && r.direction === 'IN')!.signed_xml).toBe(signed.value);
    // kept once as a message (the payment row no longer repeats it) and once in the audit trail, identical
    const sent = rows.find((r) => r.msg_type === 'pacs.008' && r.direction === 'OUT')!.signed_xml as string;
    const [tx] = await h.base.sql`select signed_xml from transactions where end_to_end_id = ${out.json.endToEndId}`;
    expect(tx!.signed_xml).toBeNull();
    const [audited] = await h.base.sql`select detail->>'signedXml' as xml from audit_log where action = 'message.out' and detail->>'endToEndId' = ${out.json.endToEndId} and detail->>'msgType' = 'pacs.008'`;
    expect(audited!.xml).toBe(sent);

    const cli = Bun.spawnSync(['bun', join(ROOT_DIR, 'cli/main.ts'), 'messages', 'show', out.json.endToEndId], {
      env: { ...process.env, DB_SCHEMA: h.config.dbSchema, LOG_LEVEL: 'silent' }, stdout: 'pipe', stderr: 'pipe',
    });
    expect(cli.exitCode).toBe(0);
    const text = cli.stdout.toString();
    expect(text).toContain(`OUT pacs.008`);
    expect(text).toContain(`IN pacs.002`);
    expect(text).toContain(sent);
  }, 15_000);
});
