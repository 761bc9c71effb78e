// Returns (pacs.004), both ways. The sum of a payment's returns never exceeds it (PIX.md): for our
// outbound returns the check runs under a row lock on the original payment, counting every return not
// rejected; SPI checks it again. Outbound: hold the amount on the payee's account → pacs.004 → SPI's
// pacs.002 ACSC debits it (posting with the status) or RJCT releases it. Inbound: SPI has already
// settled the return when it reaches our inbox, so it is credited to the original payer at once.
import type { Sql } from 'postgres';
import { appendAudit } from '../../../shared/audit.ts';
import type { Clock } from '../../../shared/clock.ts';
import type { Config } from '../../../shared/config.ts';
import { newMsgId, newReturnId } from '../../../shared/ids.ts';
import { formatAmount } from '../../../shared/money.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { SpiEnvelope } from '../../../shared/spi/envelope.ts';
import type { Pacs002 } from '../../../shared/spi/pacs002.ts';
import { buildPacs004, type Pacs004, type ReturnReason } from '../../../shared/spi/pacs004.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { AccountAuthority, Effect } from '../accounts/authority.ts';
import { loadInbound } from '../inbound/payments.ts';
import { checkInboundReturn } from '../inbound/credit.ts';
import type { SpiLink } from '../messages/link.ts';
import type { EngineSigner, PaymentEngine } from '../payments/engine.ts';
import { messageAudit } from '../pipeline/audit.ts';
import { writeOrThrow, type MessageRow, type SpiStore } from '../pipeline/store.ts';

export interface ReturnView {
  returnId: string;
  endToEndId: string;
  direction: 'OUTBOUND' | 'INBOUND';
  amount: string;
  reason: string;
  status: string;
  rejectReason?: string;
}

export interface Returns {
  /** we give back (part of) a payment one of our customers received */
  create(req: { endToEndId: string; amountCentavos: bigint; reason: ReturnReason; info?: string }): Promise<Result<ReturnView>>;
  onInbound(env: SpiEnvelope<Pacs004>, signedXml: string): Promise<void>;
  onReport(report: Pacs002, signedXml: string, msgId: string): Promise<void>;
  get(returnId: string): Promise<ReturnView | null>;
  /** after a restart: outbound returns still awaiting SPI's report are held again and awaited */
  recover(): Promise<number>;
  list(endToEndId: string): Promise<ReturnView[]>;
}

interface OpenReturn {
  endToEndId: string;
  originalCreatedAt: Date;
  amountCentavos: bigint;
  originalAmountCentavos: bigint;
  effect: Effect;
}

const viewOfRow = (r: Record<string, any>): ReturnView => ({
  returnId: r.return_id, endToEndId: String(r.end_to_end_id).trim(), direction: r.direction, amount: formatAmount(r.amount_centavos),
  reason: r.reason, status: r.status, ...(r.reject_reason ? { rejectReason: r.reject_reason } : {}),
});

/** Payment state after returns totalling `returned` of `amount`. */
const stateAfterReturns = (returned: bigint, amount: bigint) => (returned >= amount ? 'RETURNED' : 'PARTIALLY_RETURNED');

export function createReturns(deps: {
  config: Pick<Config, 'ispb' | 'bacenIspb'>; clock: Clock; logger: Logger; sql: Sql<{ bigint: bigint }>; store: SpiStore;
  authority: AccountAuthority; signer: EngineSigner; link: SpiLink; engine: PaymentEngine;
}): Returns {
  const { config, clock, sql, store, authority, signer, link, engine } = deps;
  const log = deps.logger.child({ component: 'returns' });
  const open = new Map<string, OpenReturn>();
  const msg = (msgId: string, type: string, direction: 'IN' | 'OUT', e2e: string, xml: string): MessageRow => ({ msg_id: msgId, msg_type: type, direction, end_to_end_id: e2e, signed_xml: xml, created_at: clock.now() });

  async function settledSum(e2e: string): Promise<bigint> {
    const [row] = await sql`select coalesce(sum(amount_centavos), 0)::bigint as s from spi_returns where end_to_end_id = ${e2e} and status = 'SETTLED'`;
    return row!.s as bigint;
  }

  return {
    async create(req) {
      const original = await loadInbound(sql, req.endToEndId);
      if (!original) return fail('NotFound', `no payment ${req.endToEndId} received by us`, 'endToEndId', 'exists');
      if (original.status !== 'SETTLED' && original.status !== 'PARTIALLY_RETURNED') return fail('Conflict', `the payment is ${original.status}: only settled payments are returned`, 'endToEndId', 'state');
      const account = { branch: original.creditor_branch as string, number: original.creditor_account as string };
      const now = clock.now();
      const returnId = newReturnId(config.ispb, now);
      const hold = await authority.debitForReturn(returnId, account, req.amountCentavos);
      if (!hold.ok) return fail(hold.error.reason === 'AM04' ? 'InsufficientFunds' : hold.error.reason === 'AC06' ? 'AccountBlocked' : 'AccountNotFound', hold.error.detail, 'amount', 'funds');
      const msgId = newMsgId(config.ispb);
      const r: Pacs004 = {
        returnId, originalEndToEndId: req.endToEndId, amountCentavos: req.amountCentavos, reason: req.reason,
        returnerIspb: config.ispb, receiverIspb: original.debtor_ispb as string, ...(req.info ? { additionalInfo: req.info } : {}),
      };
      const signed = await signer.signSpi(buildPacs004({ from: config.ispb, to: config.bacenIspb, bizMsgIdr: msgId, creDt: now }, r));
      if (!signed.ok) {
        hold.value.abort();
        throw new Error(`signing our pacs.004 failed: ${signed.error.detail}`);
      }
      // the sum rule, under a lock on the original so two concurrent returns cannot both pass it
      const outcome = await sql.begin(async (tx) => {
        await tx`select 1 from transactions where end_to_end_id = ${req.endToEndId} and created_at = ${original.created_at} for update`;
        const [used] = await tx`select coalesce(sum(amount_centavos), 0)::bigint as s from spi_returns where end_to_end_id = ${req.endToEndId} and status in ('SENT', 'SETTLED')`;
        const left = (original.amount_centavos as bigint) - (used!.s as bigint);
        if (req.amountCentavos > left) return { refused: left };
        await tx`insert into spi_returns ${tx({ return_id: returnId, end_to_end_id: req.endToEndId, direction: 'OUTBOUND', amount_centavos: req.amountCentavos, reason: req.reason, status: 'SENT', reject_reason: null, created_at: now, updated_at: now })}`;
        const message = msg(msgId, 'pacs.004', 'OUT', req.endToEndId, signed.value);
        await tx`insert into spi_messages ${tx(message)}`;
        // written here, not through the store: the sum rule needs the lock above in the same transaction
        await appendAudit(tx, messageAudit(message), now);
        return { refused: null };
      });
      if (outcome.refused !== null) {
        hold.value.abort();
        return fail('InvalidRequest', `the return exceeds what is left of the payment (${formatAmount(outcome.refused)})`, 'amount', 'returnable');
      }
      open.set(returnId, { endToEndId: req.endToEndId, originalCreatedAt: original.created_at as Date, amountCentavos: req.amountCentavos, originalAmountCentavos: original.amount_centavos as bigint, effect: hold.value });
      const sent = await link.send(signed.value);
      if (sent.kind === 'refused') {
        open.delete(returnId);
        hold.value.abort();
        await writeOrThrow(store, { kind: 'update-return', returnId, from: ['SENT'], to: 'REJECTED', rejectReason: 'FF07', at: clock.now() });
        return ok({ returnId, endToEndId: req.endToEndId, direction: 'OUTBOUND', amount: formatAmount(req.amountCentavos), reason: req.reason, status: 'REJECTED', rejectReason: 'FF07' });
      }
      return ok({ returnId, endToEndId: req.endToEndId, direction: 'OUTBOUND', amount: formatAmount(req.amountCentavos), reason: req.reason, status: 'SENT' });
    },

    async onReport(report, signedXml, msgId) {
      const returnId = report.originalEndToEndId;
      const o = open.get(returnId);
      const evidence = msg(msgId, 'pacs.002', 'IN', o?.endToEndId ?? returnId.slice(0, 32), signedXml);
      if (!o || report.status === 'ACSP') {
        await store.write({ kind: 'messages', messages: [evidence] });
        if (!o) log.warn({ returnId }, 'pacs.002 for a return that is not open');
        return;
      }
      open.delete(returnId);
      const at = clock.now();
      if (report.status === 'RJCT') {
        await writeOrThrow(store, { kind: 'update-return', returnId, from: ['SENT'], to: 'REJECTED', rejectReason: report.reason ?? 'DS04', at, messages: [evidence] });
        o.effect.abort();
        return;
      }
      const returned = (await settledSum(o.endToEndId)) + o.amountCentavos;
      const r = await writeOrThrow(store, { kind: 'update-return', returnId, from: ['SENT'], to: 'SETTLED', at, ...(o.effect.posting ? { posting: o.effect.posting } : {}), messages: [evidence] });
      o.effect.commit(r.posted);
      await writeOrThrow(store, { kind: 'update-tx', endToEndId: o.endToEndId, createdAt: o.originalCreatedAt, from: ['SETTLED', 'PARTIALLY_RETURNED'], to: stateAfterReturns(returned, o.originalAmountCentavos), at });
    },

    async onInbound(env, signedXml) {
      const r = env.message;
      const at = clock.now();
      const original = await engine.record(r.originalEndToEndId);
      const check = checkInboundReturn(r, original, config.ispb);
      // SPI settled it already: the money has arrived whatever we think; a disagreement is logged loudly
      if (!check.ok) log.error({ returnId: r.returnId, e2e: r.originalEndToEndId, reason: check.reason, detail: check.detail }, 'SPI settled a return our records refuse');
      const evidence = msg(env.header.bizMsgIdr, 'pacs.004', 'IN', r.originalEndToEndId, signedXml);
      let posting;
      let effect: Effect | null = null;
      if (original) {
        const credit = await authority.credit('RETURN_IN', r.returnId, { branch: original.debtor.branch, number: original.debtor.number }, r.amountCentavos);
        if (credit.ok) {
          effect = credit.value;
          posting = credit.value.posting;
        } else log.error({ returnId: r.returnId, why: credit.error }, 'returned money could not be credited to the payer; it stays in SPI clearing');
      }
      const res = await writeOrThrow(store, {
        kind: 'insert-return',
        row: { return_id: r.returnId, end_to_end_id: r.originalEndToEndId, direction: 'INBOUND', amount_centavos: r.amountCentavos, reason: r.reason, status: 'SETTLED', reject_reason: null, created_at: at, updated_at: at },
        ...(posting ? { posting } : {}),
        messages: [evidence],
      });
      effect?.commit(res.posted);
      if (res.applied && original) {
        const returned = original.returnedCentavos + r.amountCentavos;
        await writeOrThrow(store, { kind: 'update-tx', endToEndId: original.endToEndId, createdAt: original.createdAt, from: ['SETTLED', 'PARTIALLY_RETURNED'], to: stateAfterReturns(returned, original.amountCentavos), at });
        engine.noteReturn(original.endToEndId, r.amountCentavos);
      }
    },

    async recover() {
      const since = new Date(clock.nowMs() - 3 * 86_400_000);
      const rows = await sql`
        select r.return_id, r.amount_centavos, t.end_to_end_id, t.created_at, t.amount_centavos as original_amount, t.creditor_branch, t.creditor_account
        from spi_returns r join transactions t on t.end_to_end_id = r.end_to_end_id and t.direction = 'INBOUND'
        where r.direction = 'OUTBOUND' and r.status = 'SENT' and r.created_at >= ${since}`;
      for (const r of rows) {
        const effect = authority.restoreReturn(r.return_id, { branch: r.creditor_branch, number: r.creditor_account }, r.amount_centavos);
        open.set(r.return_id, { endToEndId: String(r.end_to_end_id).trim(), originalCreatedAt: r.created_at, amountCentavos: r.amount_centavos, originalAmountCentavos: r.original_amount, effect });
      }
      return rows.length;
    },

    async get(returnId) {
      const rows = await sql`select * from spi_returns where return_id = ${returnId}`;
      return rows[0] ? viewOfRow(rows[0]) : null;
    },

    async list(e2e) {
      const rows = await sql`select * from spi_returns where end_to_end_id = ${e2e} order by created_at`;
      return rows.map(viewOfRow);
    },
  };
}
