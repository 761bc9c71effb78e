// Which WebSocket channels an event belongs to, and which channels a principal may follow. Pure.
// Channels: `user:<id>` (events a user caused: the publisher puts the principal's sub, which it got from
// the gateway's signed principal header, in `initiatedBy` or `userId`) and `account:<ISPB>:<branch>:<number>`
// (events touching an account: payment status and incoming payments on the debtor/creditor account,
// claims and key changes on the key's account) and `liquidity` (alerts about our PI account).
// The fields read are the ones our publishers use: flat `participant|ispb, branch, accountNumber` (DICT
// key events) and nested `debtor`, `creditor`, `account` objects (settlement alerts), also under `payment`
// (SPI payment events: `{eventId, type, at, payment: {debtor, creditor, …}}`).

export const CHANNEL_PATTERN = /^(user:[A-Za-z0-9._@-]{1,64}|account:[0-9A-Z]{8}:[0-9]{0,4}:[0-9A-Za-z-]{1,20}|liquidity|all)$/;
/** A connection may follow at most this many channels (the user's own plus their accounts). */
export const CHANNELS_PER_CONNECTION_MAX = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

function accountChannel(o: Obj): string | undefined {
  const ispb = str(o.participant) ?? str(o.ispb);
  const number = str(o.accountNumber) ?? str(o.account) ?? str(o.number);
  if (ispb === undefined || number === undefined) return undefined;
  return `account:${ispb}:${str(o.branch) ?? ''}:${number}`;
}

export function channelsOf(data: unknown): string[] {
  if (!isObj(data)) return [];
  const out = new Set<string>();
  for (const field of ['initiatedBy', 'userId'] as const) {
    const id = str(data[field]);
    if (id !== undefined) out.add(`user:${id}`);
  }
  // liquidity alerts (settlement/liquidity/monitor.ts) go to whoever may read settlement
  if (data.channel === 'liquidity') out.add('liquidity');
  const flat = accountChannel(data);
  if (flat !== undefined) out.add(flat);
  // SPI payment events carry the payment under `payment` (services/spi/payments/events.ts); its debtor has
  // no ISPB field, but the EndToEndId names the payer's ISPB (PIX.md: E + payer ISPB + …)
  for (const holder of isObj(data.payment) ? [data, data.payment] : [data]) {
    const payerIspb = holder === data.payment ? /^E(\d{8})/.exec(str(holder.endToEndId) ?? '')?.[1] : undefined;
    for (const field of ['debtor', 'creditor', 'account', 'payer', 'payee'] as const) {
      const raw = holder[field];
      const nested = field === 'debtor' && payerIspb !== undefined && isObj(raw) && str(raw.ispb) === undefined && str(raw.participant) === undefined ? { ...raw, ispb: payerIspb } : raw;
      if (isObj(nested)) {
        const c = accountChannel(isObj(nested.account) ? { ...nested, ...nested.account } : nested);
        if (c !== undefined) out.add(c);
      }
    }
  }
  return [...out].filter((c) => CHANNEL_PATTERN.test(c));
}

/** A user follows their own channel and their accounts; settlement:read adds `liquidity`; an admin may follow everything (`all`). */
export function allowedChannels(p: { kind: 'user' | 'client'; sub: string; admin: boolean; settlement?: boolean }, accounts: readonly string[]): Set<string> {
  const allowed = new Set<string>([`${p.kind}:${p.sub}`]);
  if (p.settlement) allowed.add('liquidity');
  for (const a of accounts) allowed.add(`account:${a}`);
  if (p.admin) allowed.add('all');
  return allowed;
}

export function matches(subscribed: ReadonlySet<string>, eventChannels: readonly string[]): boolean {
  if (subscribed.has('all')) return true;
  return eventChannels.some((c) => subscribed.has(c));
}
