// TypeBox schemas of the claims API.
import { t } from 'elysia';
import { AccountSchema, KeyTypeSchema, OwnerSchema } from '../keys/model.ts';

export const ClaimTypeSchema = t.Union([t.Literal('OWNERSHIP'), t.Literal('PORTABILITY')]);

export const OpenClaimBody = t.Object({
  type: ClaimTypeSchema,
  keyType: KeyTypeSchema,
  key: t.String({ minLength: 1, maxLength: 100 }),
  account: AccountSchema,
  owner: OwnerSchema,
  confirmation: t.Optional(t.Object({ id: t.String({ format: 'uuid' }), code: t.String({ pattern: '^[0-9]{6}$' }) })),
});

export const ConfirmClaimBody = t.Object({ reason: t.Union([t.Literal('USER_REQUESTED'), t.Literal('ACCOUNT_CLOSURE'), t.Literal('DEFAULT_OPERATION')]) });
export const CancelClaimBody = t.Object({ reason: t.Union([t.Literal('USER_REQUESTED'), t.Literal('ACCOUNT_CLOSURE'), t.Literal('FRAUD'), t.Literal('DEFAULT_OPERATION')]) });

export const ClaimView = t.Object({
  id: t.String(),
  role: t.Union([t.Literal('CLAIMER'), t.Literal('DONOR')]),
  type: ClaimTypeSchema,
  key: t.String(),
  keyType: KeyTypeSchema,
  status: t.String(),
  claimerParticipant: t.String(),
  donorParticipant: t.String(),
  resolutionPeriodEnd: t.String(),
  completionPeriodEnd: t.String(),
  lastModified: t.String(),
  confirmReason: t.Optional(t.String()),
  cancelReason: t.Optional(t.String()),
  cancelledBy: t.Optional(t.String()),
  nextAction: t.Optional(t.String()),
  nextActionAt: t.Optional(t.String()),
});
