// Payments arriving from SPI for our customers. SPI delivers the payer PSP's signed pacs.008 to our inbox
// and waits (10 s) for our pacs.002: ACSP when the account can take it, RJCT with the reason otherwise
// (AC03 unknown account, AC06 blocked, BE01 holder mismatch). The row is durable before we answer. SPI
// then settles and reports ACSC to us: only then is the customer credited (the money has arrived).
// A duplicate pacs.008 (same EndToEndId) is answered as the first one was and credits nothing.
import { newMsgId, timeOfId } from '../../../shared/ids.ts';
import type { SpiEnvelope } from '../../../shared/spi/envelope.ts';
import { msgDefIdrOf } from '../../../shared/spi/envelope.ts';
import { buildPacs002, type Pacs002, type RejectReason } from '../../../shared/spi/pacs002.ts';
import type { Pacs008 } from '../../../shared/spi/pacs008.ts';
import type { Sql } from 'postgres';
import type { Effect } from '../accounts/authority.ts';
import type { EngineDeps } from '../payments/engine.ts';
import { maskTaxId, type PaymentView } from '../payments/payment.ts';
import { writeOrThrow, type MessageRow, type TransactionRow } from '../pipeline/store.ts';
import { checkInboundPayment, holderMatches } from './credit.ts';
import { formatAmount } from '../../../shared/money.ts';

/** Accepted inbound payments awaiting SPI's ACSC, kept in memory; others are read back from Postgres. */
export const INBOUND_PENDING_MAX = 200_000;

/** What the inbound side needs: the payment engine's dependencies, without its outbound options. */
export type InboundDeps = Omit<EngineDeps, 'options'>;

interface Pending {
  createdAt: Date;
  account: { branch: string; number: string };
  amountCentavos: bigint;
  effect: Effect | null;
  view: PaymentView;
}

export interface InboundPayments {
  onPayment(env: SpiEnvelope<Pacs008>, signedXml: string): Promise<void>;
  /** SPI's ACSC/RJCT on a payment to us */
  onReport(report: Pacs002, signedXml: string, msgId: string): Promise<void>;
}

export function createInboundPayments(deps: InboundDeps): InboundPayments {
  const { config, clock, store, authority, signer, link, events } = deps;
  const log = deps.logger.child({ component: 'inbound' });
  const pending = new Map<string, Pending>();
  const msg = (msgId: string, type: string, direction: 'IN' | 'OUT', e2e: string, xml: string): MessageRow => ({ msg_id: msgId, msg_type: type, direction, end_to_end_id: e2e, signed_xml: xml, created_at: clock.now() });

  async function answer(env: SpiEnvelope<Pacs008>, status: 'ACSP' | 'RJCT', reason?: RejectReason): Promise<void> {
    const now = clock.now();
    const header = { from: config.ispb, to: config.bacenIspb, bizMsgIdr: newMsgId(config.ispb), creDt: now };
    const xml = buildPacs002(header, {
      originalMsgId: env.header.bizMsgIdr, originalMsgNmId: msgDefIdrOf('pacs.008'), originalEndToEndId: env.message.endToEndId, status,
      ...(reason ? { reason } : {}),
    });
    const signed = await signer.signSpi(xml);
    if (!signed.ok) throw new Error(`could not sign our pacs.002: ${signed.error.detail}`);
    const sent = await link.send(signed.value);
    if (sent.kind !== 'accepted') log.warn({ e2e: env.message.endToEndId, outcome: sent }, 'our pacs.002 was not taken by SPI');
    await store.write({ kind: 'messages', messages: [msg(header.bizMsgIdr, 'pacs.002', 'OUT', env.message.endToEndId, signed.value)] });
  }

  const viewOf = (p: Pacs008, status: string, reason: string | null): PaymentView => ({
    endToEndId: p.endToEndId, status: status as PaymentView['status'], amount: formatAmount(p.amountCentavos), returnedAmount: '0.00',
    debtor: { branch: p.debtorAccount.branch ?? '', number: p.debtorAccount.number },
    creditor: { ispb: p.creditorAccount.ispb, branch: p.creditorAccount.branch ?? null, number: p.creditorAccount.number, accountType: p.creditorAccount.type, name: p.creditor.name ?? '', taxId: maskTaxId(p.creditor.taxId) },
    ...(p.key ? { key: p.key } : {}), ...(p.txid ? { txid: p.txid } : {}), initiationForm: p.initiationForm,
    ...(reason ? { rejectReason: reason } : {}), createdAt: clock.now().toISOString(), statusUrl: `/inbound/${p.endToEndId}`,
  });

  return {
    async onPayment(env, signedXml) {
      const p = env.message;
      const now = clock.now();
      let reason: RejectReason | null = null;
      let effect: Effect | null = null;
      let holderName = p.creditor.name ?? '';
      const check = checkInboundPayment(p, config.ispb);
      if (!check.ok) reason = check.reason;
      else {
        const decision = await authority.credit('PAYMENT_IN', p.endToEndId, check.account, p.amountCentavos);
        if (!decision.ok) reason = decision.error.reason === 'AB09' ? 'AB09' : decision.error.reason === 'AM04' ? 'AC03' : decision.error.reason;
        else if (!holderMatches(p, decision.value.holder.taxId)) reason = 'BE01';
        else {
          effect = decision.value;
          holderName = p.creditor.name ?? decision.value.holder.name;
        }
      }
      const status = reason ? 'REJECTED' : 'ACCEPTED';
      const row: TransactionRow = {
        end_to_end_id: p.endToEndId, direction: 'INBOUND', status, amount_centavos: p.amountCentavos,
        debtor_ispb: p.debtorAccount.ispb, debtor_branch: p.debtorAccount.branch ?? null, debtor_account: p.debtorAccount.number, debtor_account_type: p.debtorAccount.type,
        debtor_tax_id: p.debtor.taxId, debtor_name: p.debtor.name,
        creditor_ispb: p.creditorAccount.ispb, creditor_branch: p.creditorAccount.branch ?? null, creditor_account: p.creditorAccount.number, creditor_account_type: p.creditorAccount.type,
        creditor_tax_id: p.creditor.taxId, creditor_name: holderName || '-',
        pix_key: p.key ?? null, idempotency_key: null, txid: p.txid ?? null, initiation_form: p.initiationForm,
        reject_reason: reason, pacs002_status: reason ? 'RJCT' : 'ACSP', settled_at: null, trace_id: null,
        created_at: now, updated_at: now,
      };
      const r = await writeOrThrow(store, { kind: 'insert-tx', row, messages: [msg(env.header.bizMsgIdr, 'pacs.008', 'IN', p.endToEndId, signedXml)] });
      if (!r.applied) {
        // the same EndToEndId again: answer as the first time; nothing is credited twice
        const first = await loadInbound(deps.sql, p.endToEndId);
        effect?.abort();
        const firstReason = (first?.reject_reason as RejectReason | null) ?? null;
        log.info({ e2e: p.endToEndId, first: first?.status }, 'duplicate inbound pacs.008');
        await answer(env, firstReason ? 'RJCT' : 'ACSP', firstReason ?? undefined);
        return;
      }
      if (!reason && check.ok) {
        if (pending.size >= INBOUND_PENDING_MAX) pending.delete(pending.keys().next().value!);
        pending.set(p.endToEndId, { createdAt: now, account: check.account, amountCentavos: p.amountCentavos, effect, view: viewOf(p, 'ACCEPTED', null) });
      }
      await answer(env, reason ? 'RJCT' : 'ACSP', reason ?? undefined);
      events.emit(viewOf(p, status, reason), now, 'INBOUND');
    },

    async onReport(report, signedXml, msgId) {
      const e2e = report.originalEndToEndId;
      const evidence = msg(msgId, 'pacs.002', 'IN', e2e, signedXml);
      let pend = pending.get(e2e);
      if (!pend) {
        const row = await loadInbound(deps.sql, e2e);
        if (!row || row.status !== 'ACCEPTED') {
          await store.write({ kind: 'messages', messages: [evidence] });
          return;
        }
        const account = { branch: row.creditor_branch as string, number: row.creditor_account as string };
        // after a restart: SPI settled it, so the money is ours to credit whatever the account's state now
        const decision = await authority.credit('PAYMENT_IN', e2e, account, row.amount_centavos as bigint);
        pend = { createdAt: row.created_at as Date, account, amountCentavos: row.amount_centavos as bigint, effect: decision.ok ? decision.value : null, view: { endToEndId: e2e } as PaymentView };
      }
      if (report.status === 'ACSP') return;
      const at = clock.now();
      const settled = report.status === 'ACSC';
      const r = await writeOrThrow(store, {
        kind: 'update-tx', endToEndId: e2e, createdAt: pend.createdAt, from: ['ACCEPTED'], to: settled ? 'SETTLED' : 'REJECTED', at,
        pacs002Status: report.status, ...(settled ? { settledAt: report.settledAt ?? at } : { rejectReason: report.reason ?? 'DS04' }),
        ...(settled && pend.effect?.posting ? { posting: pend.effect.posting } : {}),
        messages: [evidence],
      });
      pending.delete(e2e);
      if (settled) pend.effect?.commit(r.posted);
      // a dynamic BR Code's charge is paid once its payment settles (its payload then says CONCLUIDA)
      if (settled && r.applied && pend.view.txid) {
        await deps.sql`update spi_charges set status = 'CONCLUIDA', paid_end_to_end_id = ${e2e} where txid = ${pend.view.txid} and status = 'ATIVA'`;
      }
      if (r.applied && pend.view.amount) events.emit({ ...pend.view, status: settled ? 'SETTLED' : 'REJECTED', ...(settled ? { settledAt: at.toISOString() } : { rejectReason: report.reason ?? 'DS04' }) }, at, 'INBOUND');
    },
  };
}

export async function loadInbound(sql: Sql<{ bigint: bigint }>, e2e: string): Promise<Record<string, any> | null> {
  const at = timeOfId(e2e);
  if (!at) return null;
  const rows = await sql`select * from transactions where end_to_end_id = ${e2e} and direction = 'INBOUND'
    and created_at >= ${new Date(at.getTime() - 86_400_000)} and created_at < ${new Date(at.getTime() + 2 * 86_400_000)}`;
  return rows[0] ?? null;
}
