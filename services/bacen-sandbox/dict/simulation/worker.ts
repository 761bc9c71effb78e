// The simulated PSPs' side of claims, infraction reports and refunds: one bounded pass (tick) applies the
// rules to what waits on them, through the same services the API uses. A loop runs a tick every
// SIM_TICK_MS on the sandbox clock's time; the control API runs one on demand (POST /dict/simulate/run).
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { ClaimAction } from '../../../../shared/dict/claims.ts';
import type { InfractionAction } from '../../../../shared/dict/infractions.ts';
import { newReturnId } from '../../../../shared/ids.ts';
import { SANDBOX_PSPS } from '../../../../shared/participants.ts';
import type { Logger } from '../../../../shared/telemetry.ts';
import type { OffsetClock } from '../../../../shared/clock.ts';
import { actOnClaim } from '../claims/service.ts';
import type { ClaimRow } from '../claims/store.ts';
import { actOnInfractionReport, type InfractionRow } from '../infractions/service.ts';
import { actOnRefund, type RefundRow } from '../refunds/service.ts';
import { readRules, type DictRules } from './rules.ts';

/** Items of each kind one tick handles; the rest wait for the next tick. */
export const SIM_TICK_ITEMS_MAX = 200;
export const SIM_TICK_MS = 1_000;

const SIM = SANDBOX_PSPS.map((p) => p.ispb);

export interface TickReport {
  claims: number;
  infractionReports: number;
  refunds: number;
}

export function claimActionFor(c: ClaimRow, rules: DictRules, nowMs: number): { action: ClaimAction; actor: string } | null {
  const donorIsSim = SIM.includes(c.donor_participant);
  const claimerIsSim = SIM.includes(c.claimer_participant);
  if (donorIsSim && c.status === 'OPEN' && rules.donor.acknowledge) return { action: { kind: 'acknowledge' }, actor: c.donor_participant };
  if (donorIsSim && c.status === 'WAITING_RESOLUTION') {
    if (rules.donor.resolve === 'USER_REQUESTED') return { action: { kind: 'confirm', reason: 'USER_REQUESTED' }, actor: c.donor_participant };
    if (rules.donor.resolve === 'DEFAULT' && nowMs >= c.resolution_period_end.getTime()) {
      return c.type === 'OWNERSHIP'
        ? { action: { kind: 'confirm', reason: 'DEFAULT_OPERATION' }, actor: c.donor_participant }
        : { action: { kind: 'cancel', reason: 'DEFAULT_OPERATION' }, actor: c.donor_participant };
    }
  }
  if (claimerIsSim && c.status === 'CONFIRMED' && rules.claimer.complete && (c.type === 'PORTABILITY' || nowMs >= c.completion_period_end.getTime())) {
    return { action: { kind: 'complete' }, actor: c.claimer_participant };
  }
  return null;
}

export function infractionActionFor(r: InfractionRow, rules: DictRules): { action: InfractionAction; actor: string } | null {
  const answerer = r.reported_by === 'DEBITED_PARTICIPANT' ? r.credited_participant : r.debited_participant;
  if (!SIM.includes(answerer)) return null;
  if (r.status === 'OPEN' && rules.infractions.acknowledge) return { action: { kind: 'acknowledge' }, actor: answerer };
  if (r.status === 'ACKNOWLEDGED' && rules.infractions.close !== 'NEVER') {
    return { action: { kind: 'close', result: rules.infractions.close, details: 'analysed by the simulated PSP' }, actor: answerer };
  }
  return null;
}

export async function runTick(deps: { sql: Sql<{ bigint: bigint }>; clock: OffsetClock; logger: Logger }): Promise<TickReport> {
  const { sql, clock, logger } = deps;
  const rules = await readRules(sql);
  const report: TickReport = { claims: 0, infractionReports: 0, refunds: 0 };

  const claims = await sql<ClaimRow[]>`
    select * from dict_claims
    where (donor_participant in ${sql(SIM)} and status in ('OPEN', 'WAITING_RESOLUTION')) or (claimer_participant in ${sql(SIM)} and status = 'CONFIRMED')
    order by last_modified limit ${SIM_TICK_ITEMS_MAX}`;
  for (const c of claims) {
    const now = clock.now();
    const step = claimActionFor(c, rules, now.getTime());
    if (!step) continue;
    const r = await actOnClaim(sql, c.id, step.action, step.actor, now, step.action.kind === 'complete' ? randomUUID() : undefined);
    if (r.ok) report.claims++;
    else logger.debug({ claim: c.id, error: r.error }, 'simulated PSP could not act on claim');
  }

  const reports = await sql<InfractionRow[]>`
    select * from dict_infraction_reports where status in ('OPEN', 'ACKNOWLEDGED')
      and ((reported_by = 'DEBITED_PARTICIPANT' and credited_participant in ${sql(SIM)}) or (reported_by = 'CREDITED_PARTICIPANT' and debited_participant in ${sql(SIM)}))
    order by last_modified limit ${SIM_TICK_ITEMS_MAX}`;
  for (const r of reports) {
    const step = infractionActionFor(r, rules);
    if (!step) continue;
    const done = await actOnInfractionReport(sql, r.id, step.action, step.actor, clock.now());
    if (done.ok) report.infractionReports++;
  }

  if (rules.refunds.close !== 'NEVER') {
    const refunds = await sql<RefundRow[]>`
      select * from dict_refunds where status = 'OPEN' and contested_participant in ${sql(SIM)} order by last_modified limit ${SIM_TICK_ITEMS_MAX}`;
    for (const f of refunds) {
      const now = clock.now();
      const accepted = rules.refunds.close !== 'REJECTED';
      const done = await actOnRefund(
        sql,
        f.id,
        {
          kind: 'close',
          result: rules.refunds.close,
          details: accepted ? 'funds returned by the simulated PSP' : 'no funds to return',
          // an accepted refund returns the money with a pacs.004, whose ReturnId it names
          ...(accepted ? { refundTransactionId: newReturnId(f.contested_participant, now) } : {}),
        },
        f.contested_participant,
        now,
      );
      if (done.ok) report.refunds++;
    }
  }
  return report;
}

/** Errors that mean the store is gone (sandbox stopped, test schema dropped): the loop ends. */
const STORE_GONE = new Set(['CONNECTION_ENDED', 'CONNECTION_DESTROYED', '42P01', '3F000']);

export function startSimulationLoop(deps: { sql: Sql<{ bigint: bigint }>; clock: OffsetClock; logger: Logger }): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow tick is never overlapped by the next
    running = true;
    runTick(deps)
      .catch((e: unknown) => {
        if (STORE_GONE.has((e as { code?: string }).code ?? '')) clearInterval(timer);
        else deps.logger.warn({ err: e }, 'simulated PSP tick failed');
      })
      .finally(() => {
        running = false;
      });
  }, SIM_TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
