// JSON view of a claim row.
import type { Static } from 'elysia';
import type { ClaimView } from './model.ts';
import type { ClaimRow } from './store.ts';

export function viewOfClaim(r: ClaimRow): Static<typeof ClaimView> {
  return {
    id: r.id,
    role: r.role,
    type: r.claim_type as 'OWNERSHIP' | 'PORTABILITY',
    key: r.key,
    keyType: r.key_type as 'CPF',
    status: r.status,
    claimerParticipant: r.claimer_ispb,
    donorParticipant: r.donor_ispb,
    resolutionPeriodEnd: r.resolution_period_end.toISOString(),
    completionPeriodEnd: r.completion_period_end.toISOString(),
    lastModified: r.last_modified.toISOString(),
    ...(r.confirm_reason ? { confirmReason: r.confirm_reason } : {}),
    ...(r.cancel_reason ? { cancelReason: r.cancel_reason } : {}),
    ...(r.cancelled_by ? { cancelledBy: r.cancelled_by } : {}),
    ...(r.next_action ? { nextAction: r.next_action } : {}),
    ...(r.next_action_at ? { nextActionAt: r.next_action_at.toISOString() } : {}),
  };
}
