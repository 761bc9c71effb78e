// The SPI surface on the mTLS port, ICOM style (see README.md in this folder):
//   POST /api/v1/out/:ispb/msgs              one signed Envelope (pacs.008, pacs.002, pacs.004) → 201 JSON
//   POST /api/v1/out/:ispb/status            one signed pacs.028 (status request)     → 200 signed pacs.002 (current state)
//   GET  /api/v1/in/:ispb/stream/start        lease a batch of inbox messages          → 200 JSON + PI-Pull-Next
//   GET  /api/v1/in/:ispb/stream/:pointer     acknowledge that batch, lease the next   → 200 JSON + PI-Pull-Next
//   GET  /api/v1/balance/:ispb                camt.052 (signed)
//   GET  /api/v1/statement/:ispb?from&to      camt.053 (signed)
//   POST /api/v1/str/:ispb/transfers          STR reserve ↔ PI transfer (signed request, signed reply)
import { randomUUID } from 'node:crypto';
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { newMsgId } from '../../../shared/ids.ts';
import { parseAmount, formatAmount } from '../../../shared/money.ts';
import { buildCamt052 } from '../../../shared/spi/camt052.ts';
import { buildCamt053, type StatementEntry } from '../../../shared/spi/camt053.ts';
import { parseSpiMessage } from '../../../shared/spi/message.ts';
import { msgDefIdrOf } from '../../../shared/spi/envelope.ts';
import { buildPacs002 } from '../../../shared/spi/pacs002.ts';
import { parsePacs028 } from '../../../shared/spi/pacs028.ts';
import { parseXml } from '../../../shared/xml/parse.ts';
import type { SandboxDeps } from '../deps.ts';
import { signatureVerdictOf } from '../signature/plugin.ts';
import { XmlReply, xmlDocument } from '../signature/xml-reply.ts';
import { exchangePlugin } from '../transport/exchange.ts';
import { spiEngineOf } from './engine.ts';
import { pollInbox, strTransfer } from './store.ts';

/** messages handed to one poll; a poller asks for fewer with ?max= */
export const INBOX_POLL_MAX = 500;
export const INBOX_POLL_DEFAULT = 100;
/** a leased batch not acknowledged within this is delivered again (the poller is presumed dead) */
export const INBOX_LEASE_MS = 30_000;
/** a statement covers at most this span (one day is what SPI produces) */
export const STATEMENT_SPAN_MS_MAX = 31 * 86_400_000;

const IspbParams = t.Object({ ispb: t.String({ pattern: '^[0-9A-Z]{8}$' }) });
/** a poll finding the inbox empty may wait this long for a message (?waitMs=, long polling; 0 = answer at once) */
export const INBOX_WAIT_MS_MAX = 2_000;

const PollQuery = t.Object({
  max: t.Optional(t.Numeric({ minimum: 0, maximum: INBOX_POLL_MAX })),
  waitMs: t.Optional(t.Numeric({ minimum: 0, maximum: INBOX_WAIT_MS_MAX })),
});

function own(ispb: string, callerIspb: string): void {
  if (ispb !== callerIspb) throw HttpProblem.of('Forbidden', `the TLS certificate is ISPB ${callerIspb}, not ${ispb}`, [{ field: 'ispb', rule: 'caller' }]);
}

export const spiRoutes = (deps: SandboxDeps) =>
  new Elysia({ prefix: '/api/v1' })
    .use(exchangePlugin)
    .post('/out/:ispb/msgs', async ({ params: { ispb }, exchange, set }) => {
      own(ispb, exchange.caller.ispb);
      // the signature plugin left the verdict to this route (signature/plugin.ts SELF_ANSWERED_PATH)
      const signature = signatureVerdictOf(exchange);
      const engine = await spiEngineOf(deps);
      const parsed = parseSpiMessage(exchange.body);
      // not even an envelope we can read: nobody to answer with a pacs.002, so the transport answer says it
      if (!parsed.ok) throw HttpProblem.fromDomain(signature.ok ? parsed.error : signature.error);
      const msg = parsed.value;
      if (msg.header.from !== ispb) throw signature.ok ? HttpProblem.of('Forbidden', `AppHdr/Fr is ${msg.header.from}, the caller is ${ispb}`, [{ field: 'Envelope.AppHdr.Fr', rule: 'caller' }]) : HttpProblem.fromDomain(signature.error);
      if (msg.header.to !== deps.config.bacenIspb) throw HttpProblem.of('InvalidRequest', `messages go to the SPI (${deps.config.bacenIspb})`, [{ field: 'Envelope.AppHdr.To', rule: 'addressee' }]);
      if (!signature.ok) {
        // a payment or return badly signed (PIX.md § SPI messages): taken, never processed, and answered
        // with a signed pacs.002 RJCT DS0G in the sender's own inbox (Fr = the TLS caller, checked above).
        // Anything else (a pacs.002, a status request) has no pacs.002 answer: 400 as for DICT.
        if (msg.type !== 'pacs.008' && msg.type !== 'pacs.004') throw HttpProblem.fromDomain(signature.error);
        await engine.rejectUnverified(msg);
        set.status = 201;
        return { msgId: msg.header.bizMsgIdr, type: msg.type };
      }
      set.status = 201;
      const accepted = { msgId: msg.header.bizMsgIdr, type: msg.type };
      switch (msg.type) {
        case 'pacs.008': {
          const refused = await engine.intakePayment(msg, exchange.body, true);
          // an immediate refusal (duplicate in flight) is still answered by pacs.002 in the inbox
          if (refused) await engine.deliverRejection(msg, refused);
          return accepted;
        }
        case 'pacs.002': {
          const problem = engine.answer(msg);
          if (problem) throw HttpProblem.of('Conflict', problem, [{ field: 'Envelope.Document.FIToFIPmtStsRpt.TxInfAndSts.OrgnlEndToEndId', rule: 'awaiting' }]);
          return accepted;
        }
        case 'pacs.004':
          void engine.intakeReturn(msg, exchange.body, true).catch((e) => deps.logger.error({ err: e }, 'return failed'));
          return accepted;
        case 'pacs.028':
          throw HttpProblem.of('InvalidRequest', 'a status request goes to /api/v1/out/:ispb/status and is answered there', [{ field: 'Envelope.AppHdr.MsgDefIdr', rule: 'route' }]);
        default:
          throw HttpProblem.of('InvalidRequest', `${msg.type} is sent by the SPI, not to it`, [{ field: 'Envelope.AppHdr.MsgDefIdr', rule: 'direction' }]);
      }
    }, { params: IspbParams })
    // A payment's current state, asked by its payer or payee agent (e.g. its pacs.002 was lost): the answer
    // is synchronous and signed, and goes around the inbox and its message faults.
    .post('/out/:ispb/status', async ({ params: { ispb }, exchange }) => {
      own(ispb, exchange.caller.ispb);
      const engine = await spiEngineOf(deps);
      const parsed = parsePacs028(exchange.body);
      if (!parsed.ok) throw HttpProblem.fromDomain(parsed.error);
      const { header, message } = parsed.value;
      if (header.from !== ispb) throw HttpProblem.of('Forbidden', `AppHdr/Fr is ${header.from}, the caller is ${ispb}`, [{ field: 'Envelope.AppHdr.Fr', rule: 'caller' }]);
      if (header.to !== deps.config.bacenIspb) throw HttpProblem.of('InvalidRequest', `messages go to the SPI (${deps.config.bacenIspb})`, [{ field: 'Envelope.AppHdr.To', rule: 'addressee' }]);
      const e2e = message.originalEndToEndId;
      const state = await engine.statusOf(e2e, ispb);
      const field = 'Envelope.Document.FIToFIPmtStsReq.TxInf.OrgnlEndToEndId';
      if (state === 'forbidden') throw HttpProblem.of('Forbidden', `${ispb} is neither agent of payment ${e2e}`, [{ field, rule: 'agent' }]);
      if (!state) throw HttpProblem.of('NotFound', `SPI never received payment ${e2e}`, [{ field, rule: 'exists' }]);
      const at = deps.clock.now();
      const reply = { from: deps.config.bacenIspb, to: ispb, bizMsgIdr: newMsgId(deps.config.bacenIspb), creDt: at };
      return new XmlReply(buildPacs002(reply, {
        originalMsgId: state.originalMsgId, originalMsgNmId: msgDefIdrOf('pacs.008'), originalEndToEndId: e2e, status: state.status,
        ...(state.status === 'RJCT' ? { reason: state.reason } : {}),
        ...(state.status === 'ACSC' ? { settledAt: state.settledAt } : {}),
      }), 'spi');
    }, { params: IspbParams })
    .get('/in/:ispb/stream/start', async ({ params: { ispb }, query, exchange, set }) => {
      own(ispb, exchange.caller.ispb);
      return poll(deps, ispb, null, query.max ?? INBOX_POLL_DEFAULT, set, query.waitMs ?? 0);
    }, { params: IspbParams, query: PollQuery })
    .get('/in/:ispb/stream/:pointer', async ({ params: { ispb, pointer }, query, exchange, set }) => {
      own(ispb, exchange.caller.ispb);
      return poll(deps, ispb, pointer, query.max ?? INBOX_POLL_DEFAULT, set, query.waitMs ?? 0);
    }, { params: t.Object({ ispb: t.String({ pattern: '^[0-9A-Z]{8}$' }), pointer: t.String({ format: 'uuid' }) }), query: PollQuery })
    .get('/balance/:ispb', async ({ params: { ispb }, exchange }) => {
      own(ispb, exchange.caller.ispb);
      await spiEngineOf(deps);
      const [row] = await deps.sql<{ balance_centavos: bigint }[]>`select balance_centavos from spi_accounts where ispb = ${ispb}`;
      if (!row) throw HttpProblem.of('NotFound', `no PI account for ${ispb}`);
      const at = deps.clock.now();
      const header = { from: deps.config.bacenIspb, to: ispb, bizMsgIdr: newMsgId(deps.config.bacenIspb), creDt: at };
      return new XmlReply(buildCamt052(header, { reportId: header.bizMsgIdr.slice(0, 35), accountIspb: ispb, balanceCentavos: row.balance_centavos, at }), 'spi');
    }, { params: IspbParams })
    .get('/statement/:ispb', async ({ params: { ispb }, query, exchange }) => {
      own(ispb, exchange.caller.ispb);
      await spiEngineOf(deps);
      const now = deps.clock.now();
      const from = query.from ? new Date(query.from) : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      const to = query.to ? new Date(query.to) : now;
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to || to.getTime() - from.getTime() > STATEMENT_SPAN_MS_MAX) {
        throw HttpProblem.of('InvalidRequest', 'from/to must be ISO instants, from ≤ to, at most 31 days apart', [{ field: 'from', rule: 'range' }]);
      }
      const { opening, closing, entries } = await deps.sql.begin('isolation level repeatable read', async (tx) => {
        const [acct] = await tx<{ balance_centavos: bigint }[]>`select balance_centavos from spi_accounts where ispb = ${ispb}`;
        if (!acct) throw HttpProblem.of('NotFound', `no PI account for ${ispb}`);
        const [after] = await tx<{ net: bigint | null }[]>`
          select sum(case when direction = 'CRDT' then amount_centavos else -amount_centavos end)::bigint as net
          from spi_entries where ispb = ${ispb} and booked_at >= ${to}`;
        const rows = await tx<{ reference: string; kind: string; direction: string; amount_centavos: bigint; booked_at: Date }[]>`
          select reference, kind, direction, amount_centavos, booked_at from spi_entries
          where ispb = ${ispb} and booked_at >= ${from} and booked_at < ${to} order by id`;
        const closing = acct.balance_centavos - (after?.net ?? 0n);
        const net = rows.reduce((a, r) => a + (r.direction === 'CRDT' ? r.amount_centavos : -r.amount_centavos), 0n);
        const entries: StatementEntry[] = rows.map((r) => ({ reference: r.reference, kind: r.kind as StatementEntry['kind'], amountCentavos: r.amount_centavos, direction: r.direction as 'CRDT' | 'DBIT', bookedAt: r.booked_at }));
        return { opening: closing - net, closing, entries };
      });
      const header = { from: deps.config.bacenIspb, to: ispb, bizMsgIdr: newMsgId(deps.config.bacenIspb), creDt: now };
      return new XmlReply(buildCamt053(header, { statementId: header.bizMsgIdr.slice(0, 35), accountIspb: ispb, from, to, openingCentavos: opening, closingCentavos: closing, entries }), 'spi');
    }, { params: IspbParams, query: t.Object({ from: t.Optional(t.String({ maxLength: 40 })), to: t.Optional(t.String({ maxLength: 40 })) }) })
    .post('/str/:ispb/transfers', async ({ params: { ispb }, exchange }) => {
      own(ispb, exchange.caller.ispb);
      await spiEngineOf(deps);
      const req = readStrRequest(exchange.body);
      const result = await strTransfer(deps.sql, { ...req, ispb }, deps.clock.now());
      if ('refused' in result) throw HttpProblem.of('Conflict', result.refused, [{ field: 'Amount', rule: 'balance' }]);
      return new XmlReply(xmlDocument('StrTransferResponse', {
        TransferId: req.id, Direction: req.direction, Amount: formatAmount(req.amountCentavos),
        PiBalance: formatAmount(result.piCentavos), ReserveBalance: formatAmount(result.reserveCentavos), Replayed: String(result.replayed),
      }));
    }, { params: IspbParams });

/** Acknowledges `ackLease` and leases up to `max` messages; an empty inbox is waited on for up to `waitMs`
 *  (long polling: the message is handed over when it is inserted, not at the poller's next interval).
 *  A poll whose client went away still leases what it finds (the lease runs out, INBOX_LEASE_MS): the
 *  SPI service therefore never abandons an in-flight long poll (services/spi/inbound/poller.ts). */
async function poll(deps: SandboxDeps, ispb: string, ackLease: string | null, max: number, set: { headers: Record<string, string | number> }, waitMs: number) {
  const engine = await spiEngineOf(deps);
  const lease = randomUUID();
  const deadline = performance.now() + waitMs;
  let ack = ackLease;
  let acked = 0;
  let rows: Awaited<ReturnType<typeof pollInbox>>['rows'];
  for (;;) {
    const left = deadline - performance.now();
    const signal = left > 0 && max > 0 ? engine.inboxSignal(ispb, left, max) : null;
    const now = deps.clock.now();
    const r = await pollInbox(deps.sql, { ispb, ackLease: ack, newLease: lease, max, now, leaseUntil: new Date(now.getTime() + INBOX_LEASE_MS) });
    acked += r.acked;
    ack = null;
    rows = r.rows;
    if (rows.length > 0 || !signal) {
      signal?.cancel();
      break;
    }
    await signal.done;
  }
  const pullNext = `/api/v1/in/${ispb}/stream/${lease}`;
  set.headers['PI-Pull-Next'] = pullNext;
  return { acked, pullNext, messages: rows.map((r) => ({ seq: String(r.seq), type: r.msg_type, msgId: r.msg_id, xml: r.xml })) };
}

const STR_ID_RE = /^[A-Za-z0-9-]{1,35}$/;

function readStrRequest(body: string): { id: string; direction: 'TO_PI' | 'TO_RESERVE'; amountCentavos: bigint } {
  const parsed = parseXml(body);
  if (!parsed.ok) throw HttpProblem.fromDomain(parsed.error);
  const r = parsed.value['StrTransferRequest'] as Record<string, unknown> | undefined;
  if (!r || typeof r !== 'object') throw HttpProblem.of('InvalidRequest', 'the root must be StrTransferRequest', [{ field: 'StrTransferRequest', rule: 'root' }]);
  const id = r['TransferId'];
  if (typeof id !== 'string' || !STR_ID_RE.test(id)) throw HttpProblem.of('InvalidRequest', 'TransferId must be 1–35 [A-Za-z0-9-]', [{ field: 'TransferId', rule: 'format' }]);
  const direction = r['Direction'];
  if (direction !== 'TO_PI' && direction !== 'TO_RESERVE') throw HttpProblem.of('InvalidRequest', 'Direction must be TO_PI or TO_RESERVE', [{ field: 'Direction', rule: 'enum' }]);
  const amount = parseAmount(typeof r['Amount'] === 'string' ? r['Amount'] : '', 'Amount');
  if (!amount.ok) throw HttpProblem.fromDomain(amount.error);
  return { id, direction, amountCentavos: amount.value };
}
