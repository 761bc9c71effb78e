// Turns a payment request into an order: the amount (wire → centavos), and the creditor, addressed by a
// DICT key (resolved through the DICT service), a BR Code (parsed, validated; a dynamic one's charge is
// fetched and its JWS verified) or account data (manual). Every refusal is a value naming its field.
import type { Clock } from '../../../shared/clock.ts';
import { parseAmount } from '../../../shared/money.ts';
import { fail, ok, type DomainError, type Result } from '../../../shared/result.ts';
import { parseBrCode } from '../../../shared/spi/brcode.ts';
import type { ResolvedEntry, KeyResolver } from '../keys/resolver.ts';
import { fetchCharge, type FetchedCharge } from '../qr/charges.ts';
import type { PaymentOrder } from './engine.ts';
import type { PaymentBody } from './model.ts';

export interface OrderContext {
  resolver: KeyResolver;
  clock: Clock;
  trustedCaPem: string;
  qrFetchScheme: 'https' | 'http';
  /** the payer (for anti-scan) when the request names none: the debtor account's holder */
  defaultPayerId(branch: string, number: string): string | null;
}

export interface ResolvedOrder {
  order: Omit<PaymentOrder, 'idempotency' | 'traceId'>;
  payerId: string;
  keyType: string | null;
  charge: FetchedCharge | null;
}

const creditorOf = (e: ResolvedEntry) => ({
  ispb: e.account.participant, branch: e.account.branch, number: e.account.accountNumber, accountType: e.account.accountType,
  taxId: e.owner.taxIdNumber, name: e.owner.name,
});

type Failure = { ok: false; error: DomainError & { retryAfterS?: number } };

export async function resolveOrder(body: PaymentBody, ctx: OrderContext): Promise<Result<ResolvedOrder, DomainError & { retryAfterS?: number }>> {
  const ways = [body.creditor.key, body.creditor.brCode, body.creditor.account].filter((x) => x !== undefined).length;
  if (ways !== 1) return fail('InvalidRequest', 'creditor must carry exactly one of key, brCode, account', 'creditor', 'choice');
  let amount: bigint | undefined;
  if (body.amount !== undefined) {
    const a = parseAmount(body.amount, 'amount');
    if (!a.ok) return a;
    amount = a.value;
  }
  const payerId = body.payerId ?? ctx.defaultPayerId(body.debtor.branch, body.debtor.number);
  if (!payerId) return fail('AccountNotFound', `account ${body.debtor.branch}/${body.debtor.number} does not exist`, 'debtor', 'exists');
  const remittanceInfo = body.remittanceInfo ?? null;

  if (body.creditor.account) {
    if (amount === undefined) return fail('InvalidRequest', 'amount is required', 'amount', 'required');
    const a = body.creditor.account;
    return ok({
      order: { amountCentavos: amount, debtor: body.debtor, creditor: { ispb: a.ispb, branch: a.branch ?? null, number: a.number, accountType: a.accountType, taxId: a.taxId, name: a.name }, key: null, txid: null, initiationForm: 'MANU', remittanceInfo },
      payerId, keyType: null, charge: null,
    });
  }

  if (body.creditor.key !== undefined) {
    if (amount === undefined) return fail('InvalidRequest', 'amount is required', 'amount', 'required');
    const entry = await ctx.resolver.resolve(body.creditor.key, { payerId });
    if (!entry.ok) return entry as Failure;
    return ok({
      order: { amountCentavos: amount, debtor: body.debtor, creditor: creditorOf(entry.value), key: entry.value.key, txid: null, initiationForm: 'DICT', remittanceInfo },
      payerId, keyType: entry.value.keyType, charge: null,
    });
  }

  const code = parseBrCode(body.creditor.brCode!);
  if (!code.ok) return fail('InvalidRequest', `brCode: ${code.error.detail}`, `creditor.brCode.${code.error.field ?? ''}`.replace(/\.$/, ''), code.error.rule ?? 'invalid');
  let key: string;
  let txid: string | null = null;
  let charge: FetchedCharge | null = null;
  let codeAmount = code.value.amountCentavos;
  if (code.value.kind === 'static') {
    key = code.value.key;
    txid = code.value.txid === '***' ? null : code.value.txid;
  } else {
    const fetched = await fetchCharge(code.value.url, { scheme: ctx.qrFetchScheme, trustedCaPem: ctx.trustedCaPem, clock: ctx.clock });
    if (!fetched.ok) return fetched;
    charge = fetched.value;
    if (charge.paid) return fail('Conflict', 'the charge was already paid', 'creditor.brCode', 'paid');
    if (charge.expired) return fail('Conflict', 'the charge has expired', 'creditor.brCode', 'expired');
    if (charge.payload.status !== 'ATIVA') return fail('Conflict', `the charge is ${charge.payload.status}`, 'creditor.brCode', 'status');
    key = charge.payload.chave;
    txid = charge.payload.txid;
    codeAmount = BigInt((charge.payload.valor.final ?? charge.payload.valor.original).replace('.', ''));
  }
  if (codeAmount !== undefined && amount !== undefined && amount !== codeAmount) {
    return fail('InvalidRequest', 'amount differs from the amount the BR Code sets', 'amount', 'matches-brcode');
  }
  const total = codeAmount ?? amount;
  if (total === undefined) return fail('InvalidRequest', 'amount is required (the BR Code sets none)', 'amount', 'required');
  const entry = await ctx.resolver.resolve(key, { payerId });
  if (!entry.ok) return entry as Failure;
  return ok({
    order: { amountCentavos: total, debtor: body.debtor, creditor: creditorOf(entry.value), key: entry.value.key, txid, initiationForm: code.value.kind === 'static' ? 'QRES' : 'QRDN', remittanceInfo },
    payerId, keyType: entry.value.keyType, charge,
  });
}
