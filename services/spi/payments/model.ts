// TypeBox schemas of the payments API. Shapes only; amounts and BR Codes are validated by the domain
// (parseAmount, parseBrCode) so a refusal names the field and the rule.
import { t, type Static } from 'elysia';

export const Branch = t.String({ pattern: '^[0-9]{4}$' });
export const AccountNumber = t.String({ pattern: '^[0-9]{1,20}$' });
export const AccountType = t.Union([t.Literal('CACC'), t.Literal('SVGS'), t.Literal('SLRY'), t.Literal('TRAN')]);
export const TaxId = t.String({ pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' });

export const CreditorSchema = t.Object({
  key: t.Optional(t.String({ minLength: 1, maxLength: 77 })),
  brCode: t.Optional(t.String({ minLength: 1, maxLength: 1024 })),
  account: t.Optional(t.Object({
    ispb: t.String({ pattern: '^[0-9A-Z]{8}$' }),
    branch: t.Optional(Branch),
    number: AccountNumber,
    accountType: AccountType,
    taxId: TaxId,
    name: t.String({ minLength: 1, maxLength: 140 }),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const PaymentBody = t.Object({
  /** BRL with two decimals ("12.34"); optional when the BR Code carries the amount */
  amount: t.Optional(t.String({ maxLength: 32 })),
  debtor: t.Object({ branch: Branch, number: AccountNumber }, { additionalProperties: false }),
  creditor: CreditorSchema,
  remittanceInfo: t.Optional(t.String({ minLength: 1, maxLength: 140 })),
  /** the paying end user (CPF/CNPJ) for DICT anti-scan; defaults to the debtor account's holder */
  payerId: t.Optional(TaxId),
}, { additionalProperties: false });
export type PaymentBody = Static<typeof PaymentBody>;

export const PaymentHeaders = t.Object({
  'idempotency-key': t.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' }),
});

export const PreviewBody = t.Object({
  key: t.Optional(t.String({ minLength: 1, maxLength: 77 })),
  brCode: t.Optional(t.String({ minLength: 1, maxLength: 1024 })),
  payerId: TaxId,
}, { additionalProperties: false });
export type PreviewBody = Static<typeof PreviewBody>;

export const E2eParams = t.Object({ e2e: t.String({ pattern: '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$' }) });
