// Drizzle description of sql/0001_init.sql so services can build typed queries. The SQL files are the
// source of truth: partitioning, CHECKs, triggers and per-partition indexes live only there.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  customType,
  date,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const tz = { withTimezone: true, mode: 'date' } as const;
/** Postgres bytea as raw bytes (the audit chain's hashes) */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });
/** int8 centavos as JS bigint, never number (2^53 centavos is not a bound we want to reason about) */
const centavos = (name: string) => bigint(name, { mode: 'bigint' });

export const KEY_TYPES = ['CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP'] as const;
export const ACCOUNT_TYPES = ['CACC', 'SVGS', 'SLRY', 'TRAN'] as const;
export const OWNER_TYPES = ['NATURAL_PERSON', 'LEGAL_PERSON'] as const;
export const DIRECTIONS = ['OUTBOUND', 'INBOUND'] as const;
export const INITIATION_FORMS = ['MANU', 'DICT', 'QRES', 'QRDN', 'INIC'] as const;
export const PACS002_STATUSES = ['ACSP', 'ACSC', 'RJCT'] as const;
export const DICT_CATEGORIES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export const PARTICIPANT_STATUSES = ['ACTIVE', 'SUSPENDED', 'INACTIVE'] as const;

export const participants = pgTable('participants', {
  ispb: char('ispb', { length: 8 }).primaryKey(),
  name: text('name').notNull(),
  shortName: text('short_name').notNull(),
  dictCategory: char('dict_category', { length: 1, enum: DICT_CATEGORIES }).notNull().default('F'),
  status: text('status', { enum: PARTICIPANT_STATUSES }).notNull().default('ACTIVE'),
  spiDirect: boolean('spi_direct').notNull().default(true),
  dictDirect: boolean('dict_direct').notNull().default(true),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
});

export const pixKeys = pgTable(
  'pix_keys',
  {
    key: text('key').notNull(),
    keyType: text('key_type', { enum: KEY_TYPES }).notNull(),
    participantIspb: char('participant_ispb', { length: 8 }).notNull(),
    branch: char('branch', { length: 4 }).notNull(),
    accountNumber: text('account_number').notNull(),
    accountType: text('account_type', { enum: ACCOUNT_TYPES }).notNull(),
    accountOpenedAt: timestamp('account_opened_at', tz).notNull(),
    ownerType: text('owner_type', { enum: OWNER_TYPES }).notNull(),
    ownerTaxId: text('owner_tax_id').notNull(),
    ownerName: text('owner_name').notNull(),
    ownerTradeName: text('owner_trade_name'),
    status: text('status').notNull().default('ACTIVE'),
    cid: char('cid', { length: 64 }).notNull(),
    requestId: uuid('request_id').notNull(),
    keyOwnedSince: timestamp('key_owned_since', tz).notNull(),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.keyType, t.key] }),
    index('pix_keys_key_idx').on(t.key),
    index('pix_keys_account_idx').on(t.participantIspb, t.branch, t.accountNumber, t.accountType),
    index('pix_keys_cid_idx').on(t.cid),
  ],
);

export const transactions = pgTable(
  'transactions',
  {
    endToEndId: char('end_to_end_id', { length: 32 }).notNull(),
    direction: text('direction', { enum: DIRECTIONS }).notNull(),
    status: text('status').notNull(),
    amountCentavos: centavos('amount_centavos').notNull(),
    debtorIspb: char('debtor_ispb', { length: 8 }).notNull(),
    debtorBranch: char('debtor_branch', { length: 4 }),
    debtorAccount: text('debtor_account').notNull(),
    debtorAccountType: text('debtor_account_type', { enum: ACCOUNT_TYPES }),
    debtorTaxId: text('debtor_tax_id').notNull(),
    debtorName: text('debtor_name').notNull(),
    creditorIspb: char('creditor_ispb', { length: 8 }).notNull(),
    creditorBranch: char('creditor_branch', { length: 4 }),
    creditorAccount: text('creditor_account').notNull(),
    creditorAccountType: text('creditor_account_type', { enum: ACCOUNT_TYPES }),
    creditorTaxId: text('creditor_tax_id').notNull(),
    creditorName: text('creditor_name').notNull(),
    pixKey: text('pix_key'),
    idempotencyKey: text('idempotency_key'),
    txid: text('txid'),
    initiationForm: text('initiation_form', { enum: INITIATION_FORMS }).notNull(),
    rejectReason: text('reject_reason'),
    pacs002Status: text('pacs002_status', { enum: PACS002_STATUSES }),
    settledAt: timestamp('settled_at', tz),
    signedXml: text('signed_xml'),
    traceId: text('trace_id'),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    // see sql/0001_init.sql: each month partition also has a unique index on end_to_end_id alone
    uniqueIndex('transactions_e2e_created_key').on(t.endToEndId, t.createdAt),
    index('transactions_idempotency_key_idx').on(t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
  ],
);

export const settlements = pgTable(
  'settlements',
  {
    // string 'YYYY-MM-DD': a settlement date is a calendar day, not an instant
    settlementDate: date('settlement_date', { mode: 'string' }).notNull(),
    windowId: text('window_id').notNull(),
    participantIspb: char('participant_ispb', { length: 8 }).notNull(),
    netCentavos: centavos('net_centavos').notNull(),
    grossDebitCentavos: centavos('gross_debit_centavos').notNull(),
    grossCreditCentavos: centavos('gross_credit_centavos').notNull(),
    status: text('status').notNull(),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.settlementDate, t.windowId, t.participantIspb] })],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'bigint' }).generatedAlwaysAsIdentity(),
    at: timestamp('at', tz).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    traceId: text('trace_id'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    // the hash chain (sql/0005_audit_chain.sql): filled by the BEFORE INSERT trigger, never by the caller
    chainSeq: bigint('chain_seq', { mode: 'bigint' }).notNull(),
    prevHash: bytea('prev_hash').notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.id, t.at] })],
);
