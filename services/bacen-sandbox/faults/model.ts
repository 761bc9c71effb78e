// Control API body for a fault rule. Latency is fixed (a number) or a range; rates are fractions.
import { t, type Static } from 'elysia';

/** A held request is released (connection closed) after this, so a forgotten rule cannot pin sockets forever. */
export const FAULT_HOLD_MS_MAX = 120_000;
export const FAULT_LATENCY_MS_MAX = 60_000;

const rate = t.Optional(t.Number({ minimum: 0, maximum: 1 }));
const ms = t.Integer({ minimum: 0, maximum: FAULT_LATENCY_MS_MAX });

export const FaultRuleBody = t.Object({
  prefix: t.Optional(t.String({ pattern: '^/', maxLength: 200 })),
  latencyMs: t.Optional(t.Union([ms, t.Object({ min: ms, max: ms })])),
  errorRate: rate,
  errorStatus: t.Optional(t.Integer({ minimum: 500, maximum: 599 })),
  timeoutRate: rate,
  resetRate: rate,
});

export type FaultRuleBody = Static<typeof FaultRuleBody>;
