// Control API: set, list and reset the faults the mTLS API injects.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import type { FaultRule } from './fault.ts';
import { FaultRuleBody } from './model.ts';
import { FAULT_RULES_MAX, type FaultStore } from './store.ts';

function ruleFromBody(body: FaultRuleBody): Omit<FaultRule, 'id'> {
  const { latencyMs } = body;
  const latency = latencyMs === undefined ? undefined : typeof latencyMs === 'number' ? { minMs: latencyMs, maxMs: latencyMs } : { minMs: latencyMs.min, maxMs: latencyMs.max };
  if (latency && latency.minMs > latency.maxMs) throw HttpProblem.of('InvalidRequest', 'latencyMs.min must not exceed latencyMs.max', [{ field: 'latencyMs', rule: 'range' }]);
  const rule = {
    prefix: body.prefix ?? '/',
    ...(latency ? { latency } : {}),
    errorRate: body.errorRate ?? 0,
    errorStatus: body.errorStatus ?? 503,
    timeoutRate: body.timeoutRate ?? 0,
    resetRate: body.resetRate ?? 0,
  };
  if (rule.errorRate + rule.timeoutRate + rule.resetRate > 1) {
    throw HttpProblem.of('InvalidRequest', 'errorRate + timeoutRate + resetRate must not exceed 1', [{ field: 'errorRate', rule: 'sum' }]);
  }
  return rule;
}

export const faultRoutes = (faults: FaultStore) =>
  new Elysia({ prefix: '/faults' })
    .get('/', () => ({ rules: faults.list() }))
    .post(
      '/',
      ({ body, set }) => {
        const stored = faults.set(ruleFromBody(body));
        if (!stored) throw HttpProblem.of('Conflict', `at most ${FAULT_RULES_MAX} fault rules; delete some first`);
        set.status = 201;
        return stored;
      },
      { body: FaultRuleBody },
    )
    .delete('/', ({ set }) => {
      faults.clear();
      set.status = 204;
    })
    .delete(
      '/:id',
      ({ params: { id }, set }) => {
        if (!faults.remove(id)) throw HttpProblem.of('NotFound', `no fault rule ${id}`);
        set.status = 204;
      },
      { params: t.Object({ id: t.String({ maxLength: 40 }) }) },
    );
