// TypeBox schemas of the keys API; the types derive from them. Shapes follow DICT's entry (Account /
// Owner) in JSON. Formats are checked here only where a rule is shape-only; check digits and the
// per-type key rules are domain checks (key.ts) so their violation names the rule.
import { t, type Static } from 'elysia';

export const KeyTypeSchema = t.Union([t.Literal('CPF'), t.Literal('CNPJ'), t.Literal('PHONE'), t.Literal('EMAIL'), t.Literal('EVP')]);
export const AccountTypeSchema = t.Union([t.Literal('CACC'), t.Literal('SVGS'), t.Literal('SLRY'), t.Literal('TRAN')]);
export const OwnerTypeSchema = t.Union([t.Literal('NATURAL_PERSON'), t.Literal('LEGAL_PERSON')]);

export const AccountSchema = t.Object({
  branch: t.String({ pattern: '^[0-9]{4}$' }),
  accountNumber: t.String({ pattern: '^[0-9]{1,20}$' }),
  accountType: AccountTypeSchema,
  openingDate: t.String({ format: 'date-time' }),
});

export const OwnerSchema = t.Object({
  type: OwnerTypeSchema,
  taxIdNumber: t.String({ pattern: '^[0-9A-Z]{11,14}$' }),
  name: t.String({ minLength: 1, maxLength: 140 }),
  tradeName: t.Optional(t.String({ minLength: 1, maxLength: 140 })),
});

export const RegisterKeyBody = t.Object({
  keyType: KeyTypeSchema,
  key: t.Optional(t.String({ minLength: 1, maxLength: 100 })), // the per-type limit (EMAIL 77) is a domain rule
  account: AccountSchema,
  owner: OwnerSchema,
  reason: t.Optional(t.Union([t.Literal('USER_REQUESTED'), t.Literal('RECONCILIATION')])),
  confirmation: t.Optional(t.Object({ id: t.String({ format: 'uuid' }), code: t.String({ pattern: '^[0-9]{6}$' }) })),
});
export type RegisterKeyBody = Static<typeof RegisterKeyBody>;

export const RemoveKeyBody = t.Object({
  reason: t.Union([t.Literal('USER_REQUESTED'), t.Literal('ACCOUNT_CLOSURE'), t.Literal('RECONCILIATION'), t.Literal('FRAUD'), t.Literal('RFB_VALIDATION')]),
});

export const ConfirmationBody = t.Object({
  keyType: t.Union([t.Literal('PHONE'), t.Literal('EMAIL')]),
  key: t.String({ minLength: 1, maxLength: 77 }),
  account: t.Object({ branch: t.String({ pattern: '^[0-9]{4}$' }), accountNumber: t.String({ pattern: '^[0-9]{1,20}$' }) }),
  owner: t.Object({ taxIdNumber: t.String({ pattern: '^[0-9A-Z]{11,14}$' }) }),
});
export type ConfirmationBody = Static<typeof ConfirmationBody>;

/**
 * A key in a path: at most 77 characters (EMAIL's limit, the longest type) of visible ASCII, which every
 * key type's own rule keeps to; a control character (a NUL Postgres cannot even compare) or a space is
 * refused here, before any lookup.
 */
export const KeyParams = t.Object({ key: t.String({ minLength: 1, maxLength: 77, pattern: '^[\\x21-\\x7E]+$' }) });

export const AccountQuery = t.Object({
  branch: t.String({ pattern: '^[0-9]{4}$' }),
  accountNumber: t.String({ pattern: '^[0-9]{1,20}$' }),
  accountType: AccountTypeSchema,
});

export const EntryView = t.Object({
  key: t.String(),
  keyType: KeyTypeSchema,
  account: t.Object({ participant: t.String(), branch: t.String(), accountNumber: t.String(), accountType: AccountTypeSchema, openingDate: t.String() }),
  owner: t.Object({ type: OwnerTypeSchema, taxIdNumber: t.String(), name: t.String(), tradeName: t.Optional(t.String()) }),
  creationDate: t.String(),
  keyOwnershipDate: t.String(),
  status: t.Optional(t.String()),
});
export type EntryView = Static<typeof EntryView>;
