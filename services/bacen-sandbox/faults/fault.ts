// Pure: which fault, if any, a request to `path` gets. The rule with the longest matching prefix wins,
// so a route-specific rule overrides a global ('/') one. One random draw decides among the rates.

export interface LatencyRange {
  minMs: number;
  maxMs: number;
}

export interface FaultRule {
  id: string;
  /** path prefix the rule applies to; '/' is global */
  prefix: string;
  latency?: LatencyRange;
  /** fraction of requests answered with `errorStatus` */
  errorRate: number;
  errorStatus: number;
  /** fraction of requests held without an answer (the caller's deadline must fire) */
  timeoutRate: number;
  /** fraction of requests whose connection is closed without an answer */
  resetRate: number;
}

export type FaultAction = 'none' | 'reset' | 'timeout' | 'error';

export interface FaultDecision {
  delayMs: number;
  action: FaultAction;
  status?: number;
  ruleId?: string;
}

export const NO_FAULT: FaultDecision = { delayMs: 0, action: 'none' };

export function ruleFor(rules: readonly FaultRule[], path: string): FaultRule | undefined {
  let best: FaultRule | undefined;
  for (const rule of rules) {
    if (path.startsWith(rule.prefix) && (!best || rule.prefix.length > best.prefix.length)) best = rule;
  }
  return best;
}

export function decideFault(rules: readonly FaultRule[], path: string, random: () => number): FaultDecision {
  const rule = ruleFor(rules, path);
  if (!rule) return NO_FAULT;
  const delayMs = rule.latency ? Math.round(rule.latency.minMs + random() * (rule.latency.maxMs - rule.latency.minMs)) : 0;
  const roll = random();
  // rates are cumulative slices of [0, 1): reset, then timeout, then error (their sum is checked ≤ 1)
  if (roll < rule.resetRate) return { delayMs, action: 'reset', ruleId: rule.id };
  if (roll < rule.resetRate + rule.timeoutRate) return { delayMs, action: 'timeout', ruleId: rule.id };
  if (roll < rule.resetRate + rule.timeoutRate + rule.errorRate) return { delayMs, action: 'error', status: rule.errorStatus, ruleId: rule.id };
  return { delayMs, action: 'none', ruleId: rule.id };
}
