// Operator commands: everything the dashboard (/ops) shows or does, from a terminal.
//   status                                   every service's /ready, Postgres/Redis/NATS, consumer lag, partition coverage
//   payments list [--status S] [--direction INBOUND|OUTBOUND] [--limit N]    |   payments show <EndToEndId>
//   keys show <key>
//   claims list [--all]                      |   claims answer <id> confirm|cancel --reason R
//   infractions close <id> --result AGREED|DISAGREED --details TEXT
//   webhooks redeliver <subscriptionId> <eventId>
//   str topup --amount 12.34 [--transfer-id ID]
//   windows step
// Reads go to Postgres (and NATS for lag); actions go through the owning service's HTTP API (dict, spi)
// or, for STR and windows, through the same code the settlement service runs, so a decision is never
// re-implemented here. Every command takes --json; exit codes: cli/ops/args.ts EXIT.
import { hostname, userInfo } from 'node:os';
import { systemClock } from '../../shared/clock.ts';
import type { Config } from '../../shared/config.ts';
import { createDb } from '../../shared/db/client.ts';
import { formatAmount, parseAmount } from '../../shared/money.ts';
import { connectNats } from '../../shared/nats/index.ts';
import { connectRedis } from '../../shared/redis/index.ts';
import { createLogger, mask } from '../../shared/telemetry.ts';
import { consumerLag, openClaims, panel, partitionCoverage, serviceHealth, signedAmount } from '../../services/settlement/ops/overview.ts';
import { strTransfer } from '../../services/settlement/str/transfers.ts';
import { wireSettlementBacen } from '../../services/settlement/str/wiring.ts';
import { advanceWindows } from '../../services/settlement/windows/store.ts';
import { EXIT, output, parseArgs, table, type ExitCode, type Out } from './args.ts';

export const OPS_COMMANDS = ['status', 'payments', 'keys', 'claims', 'infractions', 'webhooks', 'str', 'windows'] as const;

const USAGE: Record<(typeof OPS_COMMANDS)[number], string> = {
  status: 'fluxiq status [--json]',
  payments: 'fluxiq payments list [--status S] [--direction INBOUND|OUTBOUND] [--limit N] [--json] | payments show <EndToEndId> [--json]',
  keys: 'fluxiq keys show <key> [--json]',
  claims: 'fluxiq claims list [--all] [--json] | claims answer <id> confirm|cancel --reason R [--json]',
  infractions: 'fluxiq infractions close <id> --result AGREED|DISAGREED --details TEXT [--json]',
  webhooks: 'fluxiq webhooks redeliver <subscriptionId> <eventId> [--json]',
  str: 'fluxiq str topup --amount 12.34 [--transfer-id ID] [--json]',
  windows: 'fluxiq windows step [--json]',
};

/** Payments listed at most per call. */
export const PAYMENTS_LISTED_MAX = 500;
/** A service action (claim answer, redelivery) answers within this, or the command reports it unreachable. */
export const SERVICE_CALL_MS_MAX = 15_000;

const host = (config: Config) => (config.bindHost === '0.0.0.0' || config.bindHost === '::' ? '127.0.0.1' : config.bindHost);
const serviceUrl = (config: Config, port: number) => `http://${host(config)}:${port}`;
const dictUrl = (config: Config) => config.dictUrl || serviceUrl(config, config.dictPort);
const spiUrl = (config: Config) => config.spiUrl || serviceUrl(config, config.spiPort);
const operator = () => `operator:${userInfo().username}@${hostname()}`;

export async function opsCommand(config: Config, command: string, args: string[]): Promise<number> {
  const name = command as (typeof OPS_COMMANDS)[number];
  const parsed = parseArgs(args, { options: ['status', 'direction', 'limit', 'reason', 'result', 'details', 'amount', 'transfer-id'], switches: ['all'] });
  const out = output(command, args.includes('--json'));
  if (!parsed.ok) {
    out.error(EXIT.usage, `${parsed.error.detail}\nusage: ${USAGE[name]}`);
    return EXIT.usage;
  }
  const { positionals: [action, ...rest], options, switches } = parsed.value;
  const usage = () => out.error(EXIT.usage, `usage: ${USAGE[name]}`);
  switch (`${name} ${name === 'status' ? '' : (action ?? '')}`.trim()) {
    case 'status':
      return action === undefined ? status(config, out) : usage();
    case 'payments list':
      return paymentsList(config, out, options);
    case 'payments show':
      return rest.length === 1 ? paymentsShow(config, out, rest[0]!) : usage();
    case 'keys show':
      return rest.length === 1 ? keysShow(config, out, rest[0]!) : usage();
    case 'claims list':
      return claimsList(config, out, switches.has('all'));
    case 'claims answer': {
      const [id, decision] = rest;
      if (id === undefined || (decision !== 'confirm' && decision !== 'cancel') || options.reason === undefined) return usage();
      return serviceAction(out, `${dictUrl(config)}/claims/${encodeURIComponent(id)}/${decision}`, { reason: options.reason },
        (v: { id: string; status: string }) => `claim ${v.id}: ${v.status}`);
    }
    case 'infractions close': {
      const [id] = rest;
      if (id === undefined || (options.result !== 'AGREED' && options.result !== 'DISAGREED') || options.details === undefined) return usage();
      return serviceAction(out, `${dictUrl(config)}/infraction-reports/${encodeURIComponent(id)}/close`, { result: options.result, details: options.details },
        (v: { id: string; status: string }) => `infraction report ${v.id}: ${v.status}`);
    }
    case 'webhooks redeliver': {
      const [subscription, eventId] = rest;
      if (subscription === undefined || eventId === undefined) return usage();
      return serviceAction(out, `${spiUrl(config)}/webhooks/${encodeURIComponent(subscription)}/deliveries/${encodeURIComponent(eventId)}/redeliver`, undefined,
        (v: unknown) => `event ${eventId} queued for redelivery to subscription ${subscription}${v && typeof v === 'object' && 'status' in v ? ` (${String(v.status)})` : ''}`);
    }
    case 'str topup':
      return strTopUp(config, out, options);
    case 'windows step':
      return windowsStep(config, out);
    default:
      return usage();
  }
}

async function withSql<T>(config: Config, out: Out, run: (sql: ReturnType<typeof createDb>['sql']) => Promise<T>): Promise<T | ExitCode> {
  const db = createDb(config);
  try {
    return await run(db.sql);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const unreachable = /ECONNREFUSED|ENOTFOUND|timeout|connect/i.test(message);
    return out.error(unreachable ? EXIT.unavailable : EXIT.failed, unreachable ? `Postgres is unreachable: ${message}` : message);
  } finally {
    await db.close();
  }
}

// --- status -------------------------------------------------------------------------------------------

async function status(config: Config, out: Out): Promise<number> {
  const logger = createLogger('cli', 'silent');
  out.progress('checking services…');
  const services = await Promise.all([
    serviceHealth('dict', dictUrl(config)),
    serviceHealth('spi', spiUrl(config)),
    serviceHealth('settlement', serviceUrl(config, config.settlementPort)),
  ]);
  out.progress('checking Postgres, Redis, NATS…');
  const db = createDb(config, logger);
  const dependencies: Record<string, string> = {};
  try {
    dependencies.postgres = await db.sql`select 1`.then(() => 'ok', (e: Error) => e.message);
    dependencies.redis = await connectRedis(config, logger, 'fluxiq-status').then(async (r) => { const pong = await r.ping(); r.disconnect(); return pong === 'PONG' ? 'ok' : pong; }, (e: Error) => e.message);
    const nc = await connectNats(config, logger, 'fluxiq-status').catch((e: Error) => e);
    dependencies.nats = nc instanceof Error ? nc.message : 'ok';
    out.progress('reading consumer lag and partitions…');
    const lag = nc instanceof Error ? { error: nc.message } : await panel(async () => consumerLag(await nc.jetstreamManager(), config));
    if (!(nc instanceof Error)) await nc.close();
    const partitions = dependencies.postgres === 'ok' ? await panel(() => partitionCoverage(db.sql, new Date())) : { error: 'Postgres is unreachable' };
    const healthy = services.every((s) => s.ready) && Object.values(dependencies).every((d) => d === 'ok')
      && !('error' in partitions) && partitions.every((p) => p.covered) && !('error' in lag);
    const report = { healthy, services, dependencies, nats: lag, partitions };
    out.result(report, (r) => [
      table(['service', 'ready', 'detail', 'up since'], r.services.map((s) => [s.service, s.ready ? 'ready' : 'DOWN', s.error ?? JSON.stringify(s.checks), s.startedAt])),
      '',
      table(['dependency', 'state'], Object.entries(r.dependencies)),
      '',
      'error' in r.nats ? `NATS consumers: ${r.nats.error}` : table(['stream', 'consumer', 'pending', 'unacked', 'redelivered'], r.nats.consumers.map((c) => [c.stream, c.consumer, c.pending, c.ackPending, c.redelivered])),
      '',
      'error' in r.partitions ? `partitions: ${r.partitions.error}` : table(['table', 'months', 'rows in default', 'covered'], r.partitions.map((p) => [p.table, p.months.map((m) => `${m.month}${m.exists ? '' : '(missing)'}`).join(' '), p.defaultRows, p.covered ? 'yes' : 'NO'])),
      '',
      r.healthy ? 'healthy' : 'NOT healthy',
    ].join('\n'));
    return healthy ? EXIT.ok : EXIT.failed;
  } finally {
    await db.close();
  }
}

// --- payments and keys --------------------------------------------------------------------------------

interface PaymentRow {
  end_to_end_id: string; direction: string; status: string; amount_centavos: bigint; debtor_ispb: string; debtor_branch: string | null; debtor_account: string;
  creditor_ispb: string; creditor_branch: string | null; creditor_account: string; creditor_name: string; debtor_name: string; pix_key: string | null;
  initiation_form: string; reject_reason: string | null; pacs002_status: string | null; created_at: Date; settled_at: Date | null; trace_id: string | null;
}

const paymentJson = (r: PaymentRow) => ({
  endToEndId: r.end_to_end_id.trim(), direction: r.direction, status: r.status, amount: formatAmount(r.amount_centavos),
  debtor: { ispb: r.debtor_ispb, branch: r.debtor_branch, account: r.debtor_account, name: r.debtor_name },
  creditor: { ispb: r.creditor_ispb, branch: r.creditor_branch, account: r.creditor_account, name: r.creditor_name },
  key: r.pix_key, initiation: r.initiation_form, rejectReason: r.reject_reason, pacs002: r.pacs002_status,
  createdAt: r.created_at.toISOString(), settledAt: r.settled_at?.toISOString() ?? null, traceId: r.trace_id,
});

async function paymentsList(config: Config, out: Out, o: Record<string, string>): Promise<number> {
  const limit = o.limit === undefined ? 50 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAYMENTS_LISTED_MAX) return out.error(EXIT.usage, `--limit must be 1..${PAYMENTS_LISTED_MAX}`);
  if (o.direction !== undefined && o.direction !== 'INBOUND' && o.direction !== 'OUTBOUND') return out.error(EXIT.usage, '--direction must be INBOUND or OUTBOUND');
  if (o.status !== undefined && !/^[A-Z_]{1,32}$/.test(o.status)) return out.error(EXIT.usage, '--status must be a status such as SETTLED or REJECTED');
  const r = await withSql(config, out, (sql) => sql<PaymentRow[]>`
    select * from transactions where true
      ${o.status === undefined ? sql`` : sql`and status = ${o.status}`}
      ${o.direction === undefined ? sql`` : sql`and direction = ${o.direction}`}
    order by created_at desc limit ${limit}`);
  if (typeof r === 'number') return r;
  out.result({ payments: r.map(paymentJson) }, (v) => v.payments.length === 0 ? 'no payments' : table(['EndToEndId', 'dir', 'status', 'amount', 'debtor', 'creditor', 'created'],
    v.payments.map((p) => [p.endToEndId, p.direction === 'INBOUND' ? 'in' : 'out', p.status + (p.rejectReason ? ` ${p.rejectReason}` : ''), p.amount, p.debtor.ispb, p.creditor.ispb, p.createdAt])));
  return EXIT.ok;
}

async function paymentsShow(config: Config, out: Out, e2e: string): Promise<number> {
  if (!/^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$/.test(e2e)) return out.error(EXIT.usage, `${e2e} is not an EndToEndId`);
  const r = await withSql(config, out, async (sql) => {
    const [row] = await sql<PaymentRow[]>`select * from transactions where end_to_end_id = ${e2e} order by created_at desc limit 1`;
    if (row === undefined) return undefined;
    const returns = await sql<{ return_id: string; amount_centavos: bigint; status: string }[]>`select return_id, amount_centavos, status from spi_returns where end_to_end_id = ${e2e} order by created_at`;
    const messages = await sql<{ n: number }[]>`select count(*)::int as n from spi_messages where end_to_end_id = ${e2e}`;
    return { ...paymentJson(row), returns: returns.map((x) => ({ returnId: x.return_id, amount: formatAmount(x.amount_centavos), status: x.status })), signedMessages: messages[0]!.n };
  });
  if (typeof r === 'number') return r;
  if (r === undefined) return out.error(EXIT.failed, `no payment ${e2e}`);
  out.result(r, (p) => [
    `${p.endToEndId}  ${p.direction}  ${p.status}${p.rejectReason ? ` (${p.rejectReason})` : ''}  R$ ${p.amount}`,
    `  debtor    ${p.debtor.ispb} ${p.debtor.branch ?? ''}/${p.debtor.account}  ${p.debtor.name}`,
    `  creditor  ${p.creditor.ispb} ${p.creditor.branch ?? ''}/${p.creditor.account}  ${p.creditor.name}${p.key ? `  key ${p.key}` : ''}`,
    `  created ${p.createdAt}  settled ${p.settledAt ?? '-'}  pacs.002 ${p.pacs002 ?? '-'}  trace ${p.traceId ?? '-'}`,
    `  returns ${p.returns.length === 0 ? 'none' : p.returns.map((x) => `${x.returnId} ${x.amount} ${x.status}`).join(', ')}  signed messages ${p.signedMessages} (fluxiq messages show ${p.endToEndId})`,
  ].join('\n'));
  return EXIT.ok;
}

async function keysShow(config: Config, out: Out, key: string): Promise<number> {
  const r = await withSql(config, out, (sql) => sql<{ key: string; key_type: string; status: string; participant_ispb: string; branch: string | null; account_number: string; account_type: string; owner_type: string; owner_tax_id: string; owner_name: string; cid: string; key_owned_since: Date; created_at: Date }[]>`
    select key, key_type, status, participant_ispb, branch, account_number, account_type, owner_type, owner_tax_id, owner_name, cid, key_owned_since, created_at from pix_keys where key = ${key}`);
  if (typeof r === 'number') return r;
  const row = r[0];
  if (row === undefined) return out.error(EXIT.failed, `no key ${key} in our directory`);
  const v = {
    key: row.key, keyType: row.key_type, status: row.status, account: { participant: row.participant_ispb, branch: row.branch, number: row.account_number, type: row.account_type },
    // the owner's tax id is personal data: an operator sees it masked, as in the logs
    owner: { type: row.owner_type, taxId: mask(row.owner_tax_id), name: row.owner_name }, cid: row.cid, ownedSince: row.key_owned_since.toISOString(), createdAt: row.created_at.toISOString(),
  };
  out.result(v, (k) => [
    `${k.key}  ${k.keyType}  ${k.status}`,
    `  account  ${k.account.participant} ${k.account.branch ?? ''}/${k.account.number} ${k.account.type}`,
    `  owner    ${k.owner.name} (${k.owner.type}, ${k.owner.taxId})`,
    `  owned since ${k.ownedSince}  CID ${k.cid}`,
  ].join('\n'));
  return EXIT.ok;
}

// --- claims -----------------------------------------------------------------------------------------

async function claimsList(config: Config, out: Out, all: boolean): Promise<number> {
  const r = await withSql(config, out, async (sql) => {
    if (!all) return openClaims(sql, new Date());
    const rows = await sql<{ id: string; role: string; claim_type: string; key: string; key_type: string; status: string; claimer_ispb: string; donor_ispb: string; resolution_period_end: Date; completion_period_end: Date }[]>`
      select id, role, claim_type, key, key_type, status, claimer_ispb, donor_ispb, resolution_period_end, completion_period_end from dict_claims order by updated_at desc limit 200`;
    return rows.map((c) => ({ id: c.id, role: c.role, type: c.claim_type, key: c.key, keyType: c.key_type, status: c.status, claimer: c.claimer_ispb, donor: c.donor_ispb,
      resolutionDeadline: c.resolution_period_end.toISOString(), completionDeadline: c.completion_period_end.toISOString(), msLeft: c.resolution_period_end.getTime() - Date.now() }));
  });
  if (typeof r === 'number') return r;
  out.result({ claims: r }, (v) => v.claims.length === 0 ? (all ? 'no claims' : 'no open claims') : table(['id', 'key', 'type', 'role', 'status', 'claimer', 'donor', 'resolve by'],
    v.claims.map((c) => [c.id, c.key, c.type, c.role, c.status, c.claimer, c.donor, c.resolutionDeadline])));
  return EXIT.ok;
}

// --- actions through the services' APIs ---------------------------------------------------------------

async function serviceAction<T>(out: Out, url: string, body: unknown, text: (v: T) => string): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'x-actor': operator(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(SERVICE_CALL_MS_MAX),
    });
  } catch (e) {
    return out.error(EXIT.unavailable, `${new URL(url).origin} is unreachable (${e instanceof Error ? e.message : String(e)}); is the service running?`);
  }
  const payload = await res.json().catch(() => null) as (T & { detail?: string; title?: string; type?: string }) | null;
  if (!res.ok) {
    const detail = payload?.detail ?? payload?.title ?? `HTTP ${res.status}`;
    return out.error(res.status >= 500 ? EXIT.unavailable : EXIT.failed, `${res.status}: ${detail}`, { status: res.status, problem: payload });
  }
  out.result(payload as T, text);
  return EXIT.ok;
}

async function strTopUp(config: Config, out: Out, o: Record<string, string>): Promise<number> {
  const amount = parseAmount(o.amount ?? '', 'amount');
  if (!amount.ok || amount.value <= 0n) return out.error(EXIT.usage, `--amount must be a positive amount such as 1000.00`);
  const id = o['transfer-id'] ?? `CLI-${Date.now().toString(36).toUpperCase()}`;
  if (!/^[A-Za-z0-9-]{1,35}$/.test(id)) return out.error(EXIT.usage, '--transfer-id must be 1..35 letters, digits or dashes');
  const logger = createLogger('cli', 'silent');
  out.progress(`asking BACEN to move R$ ${formatAmount(amount.value)} from the reserve to the PI account (transfer ${id})…`);
  const wired = await wireSettlementBacen({ config, logger });
  try {
    const r = await withSql(config, out, (sql) => strTransfer({ sql, bacen: wired.bacen, clock: systemClock, actor: operator() }, { id, direction: 'TO_PI', amountCentavos: amount.value, origin: 'MANUAL' }));
    if (typeof r === 'number') return r;
    if (!r.ok) return out.error(r.error.code === 'Conflict' ? EXIT.failed : EXIT.unavailable, r.error.detail, { code: r.error.code });
    const v = { transferId: id, direction: 'TO_PI', amount: formatAmount(amount.value), piBalance: signedAmount(r.value.piCentavos), reserveBalance: signedAmount(r.value.reserveCentavos), replayed: r.value.replayed };
    out.result(v, (x) => `transfer ${x.transferId}${x.replayed ? ' (already applied)' : ''}: R$ ${x.amount} to the PI account; PI ${x.piBalance}, reserve ${x.reserveBalance}`);
    return EXIT.ok;
  } finally {
    await wired.close();
  }
}

async function windowsStep(config: Config, out: Out): Promise<number> {
  const r = await withSql(config, out, (sql) => advanceWindows(sql, new Date(), { actor: operator() }));
  if (typeof r === 'number') return r;
  out.result({ moves: r }, (v) => v.moves.length === 0 ? 'no window was due (the current window is open)' : v.moves.map((m) => `${m.id} → ${m.to}`).join('\n'));
  return EXIT.ok;
}
