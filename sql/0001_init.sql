-- FluxiQ initial schema. Schema-agnostic on purpose: the migration runner sets search_path to the
-- configured schema, so the same file builds production (`fluxiq`) and every test schema (`t_...`).
-- Monthly partitions are created by shared/db/partitions.ts from the injected clock; this file only
-- creates each partitioned table's DEFAULT partition, which catches rows no partition covers (the
-- maintainer alerts on it and moves such rows out when it creates their month).
-- All times are timestamptz and month boundaries are UTC months (EndToEndIds carry UTC timestamps).
-- Money is bigint centavos, never numeric/float. Status columns owned by a service's state machine only
-- get a format CHECK, so the state table stays in the service (STYLE.md: state machines are data).

-- Participants (PSPs) known to the platform, including the DICT anti-scan category (PIX.md § Rate limits).
create table participants (
  ispb         char(8)     primary key check (ispb ~ '^[0-9A-Z]{8}$'),
  name         text        not null check (length(name) between 1 and 140),
  short_name   text        not null check (length(short_name) between 1 and 80),
  dict_category char(1)    not null default 'F' check (dict_category in ('A', 'B', 'C', 'D', 'E', 'F')),
  status       text        not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED', 'INACTIVE')),
  spi_direct   boolean     not null default true,   -- settles in its own PI account (else via a liquidity provider)
  dict_direct  boolean     not null default true,   -- talks to DICT itself (else through a direct participant)
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);

-- DICT entries, one LIST partition per key type: each type has its own format and its own VSync
-- (XOR of the type's CIDs), so per-type scans for reconciliation read one partition only.
create table pix_keys (
  key                 text        not null,
  key_type            text        not null check (key_type in ('CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP')),
  participant_ispb    char(8)     not null check (participant_ispb ~ '^[0-9A-Z]{8}$'),
  branch              char(4)     not null check (branch ~ '^[0-9]{4}$'),
  account_number      text        not null check (account_number ~ '^[0-9]{1,20}$'),
  account_type        text        not null check (account_type in ('CACC', 'SVGS', 'SLRY', 'TRAN')),
  account_opened_at   timestamptz not null,
  owner_type          text        not null check (owner_type in ('NATURAL_PERSON', 'LEGAL_PERSON')),
  owner_tax_id        text        not null,
  owner_name          text        not null check (length(owner_name) between 1 and 140),
  owner_trade_name    text        check (length(owner_trade_name) <= 140),
  status              text        not null default 'ACTIVE' check (status ~ '^[A-Z_]{1,32}$'),
  cid                 char(64)    not null check (cid ~ '^[0-9a-f]{64}$'),
  request_id          uuid        not null,
  key_owned_since     timestamptz not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  -- Formats from PIX.md § Keys; check digits are verified in the service, the database keeps the shape.
  constraint pix_keys_key_format check (case key_type
    when 'CPF'   then key ~ '^[0-9]{11}$'
    when 'CNPJ'  then key ~ '^[0-9A-Z]{12}[0-9]{2}$'
    when 'PHONE' then key ~ '^\+[1-9][0-9][0-9]{1,14}$'
    when 'EMAIL' then length(key) <= 77 and key = lower(key) and key ~ '^[^@%\s]+@[^@%\s]+$'
    when 'EVP'   then key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
  end),
  constraint pix_keys_owner_tax_id_format check (case owner_type
    when 'NATURAL_PERSON' then owner_tax_id ~ '^[0-9]{11}$'
    when 'LEGAL_PERSON'   then owner_tax_id ~ '^[0-9A-Z]{12}[0-9]{2}$'
  end),
  -- A partitioned table's primary key must contain the partition key.
  primary key (key_type, key)
) partition by list (key_type);

create table pix_keys_cpf     partition of pix_keys for values in ('CPF');
create table pix_keys_cnpj    partition of pix_keys for values in ('CNPJ');
create table pix_keys_phone   partition of pix_keys for values in ('PHONE');
create table pix_keys_email   partition of pix_keys for values in ('EMAIL');
create table pix_keys_evp     partition of pix_keys for values in ('EVP');
create table pix_keys_default partition of pix_keys default;

create index pix_keys_key_idx on pix_keys (key);
-- per-account key limits (5 natural / 20 legal person) count entries of one account
create index pix_keys_account_idx on pix_keys (participant_ispb, branch, account_number, account_type);
-- reconciliation: "entry by CID"
create index pix_keys_cid_idx on pix_keys (cid);

-- Payments, RANGE-partitioned by UTC month of created_at.
create table transactions (
  end_to_end_id        char(32)    not null check (end_to_end_id ~ '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$'),
  direction            text        not null check (direction in ('OUTBOUND', 'INBOUND')),
  status               text        not null check (status ~ '^[A-Z_]{1,32}$'),
  amount_centavos      bigint      not null check (amount_centavos > 0),
  debtor_ispb          char(8)     not null check (debtor_ispb ~ '^[0-9A-Z]{8}$'),
  debtor_branch        char(4)     check (debtor_branch ~ '^[0-9]{4}$'),
  debtor_account       text        not null,
  debtor_account_type  text        check (debtor_account_type in ('CACC', 'SVGS', 'SLRY', 'TRAN')),
  debtor_tax_id        text        not null check (debtor_tax_id ~ '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$'),
  debtor_name          text        not null,
  creditor_ispb        char(8)     not null check (creditor_ispb ~ '^[0-9A-Z]{8}$'),
  creditor_branch      char(4)     check (creditor_branch ~ '^[0-9]{4}$'),
  creditor_account     text        not null,
  creditor_account_type text       check (creditor_account_type in ('CACC', 'SVGS', 'SLRY', 'TRAN')),
  creditor_tax_id      text        not null check (creditor_tax_id ~ '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$'),
  creditor_name        text        not null,
  pix_key              text,
  idempotency_key      text,
  txid                 text        check (txid ~ '^[a-zA-Z0-9]{1,35}$'),
  initiation_form      text        not null check (initiation_form in ('MANU', 'DICT', 'QRES', 'QRDN', 'INIC')),
  reject_reason        text        check (reject_reason ~ '^[A-Z0-9]{4}$'),   -- pacs.002 RJCT reason (AC03, AM04, AB03...)
  pacs002_status       text        check (pacs002_status in ('ACSP', 'ACSC', 'RJCT')),
  settled_at           timestamptz,
  signed_xml           text,        -- the signed pacs.008 exactly as sent/received: evidence for disputes and MED
  trace_id             text,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  constraint transactions_settled_needs_acsc check (settled_at is null or pacs002_status = 'ACSC')
) partition by range (created_at);

-- EndToEndId uniqueness. Postgres only enforces a unique index on a partitioned table when it contains
-- every partition-key column, so the declarative constraint is (end_to_end_id, created_at): on its own
-- it would let the same EndToEndId in twice with different created_at. The partition maintainer
-- therefore also puts a plain unique index on end_to_end_id in every month partition (and the default
-- below), which makes an EndToEndId unique within its month. The EndToEndId embeds its UTC creation
-- time (E + ISPB + yyyyMMddHHmm + 11), so a service can compute which month(s) to look in: the
-- EndToEndId's month and, for a payment received across a month boundary, the next one.
create unique index transactions_e2e_created_key on transactions (end_to_end_id, created_at);
create index transactions_idempotency_key_idx on transactions (idempotency_key) where idempotency_key is not null;

create table transactions_default partition of transactions default;
create unique index transactions_default_e2e_key on transactions_default (end_to_end_id);

-- Net positions per settlement window, RANGE-partitioned by month of settlement_date (a few rows per
-- participant per window: monthly partitions keep the partition count low; see partitions.ts).
create table settlements (
  settlement_date        date        not null,
  window_id              text        not null check (length(window_id) between 1 and 64),
  participant_ispb       char(8)     not null check (participant_ispb ~ '^[0-9A-Z]{8}$'),
  net_centavos           bigint      not null,
  gross_debit_centavos   bigint      not null check (gross_debit_centavos >= 0),
  gross_credit_centavos  bigint      not null check (gross_credit_centavos >= 0),
  status                 text        not null check (status ~ '^[A-Z_]{1,32}$'),
  created_at             timestamptz not null default now(),
  -- the net position is derived, never entered: a row that does not balance is refused
  constraint settlements_net_balances check (net_centavos = gross_credit_centavos - gross_debit_centavos),
  primary key (settlement_date, window_id, participant_ispb)
) partition by range (settlement_date);

create table settlements_default partition of settlements default;

-- Audit trail, RANGE-partitioned by UTC month of `at`; append-only, enforced below.
create table audit_log (
  id          bigint      generated always as identity,
  at          timestamptz not null default now(),
  actor       text        not null check (length(actor) between 1 and 200),
  action      text        not null check (length(action) between 1 and 100),
  entity_type text        not null check (length(entity_type) between 1 and 100),
  entity_id   text        not null,
  trace_id    text,
  detail      jsonb       not null default '{}'::jsonb,
  primary key (id, at)
) partition by range (at);

create table audit_log_default partition of audit_log default;

-- Append-only: any UPDATE, DELETE or TRUNCATE is refused in the database itself, so a bug or a manual
-- session cannot rewrite history. Row triggers on the parent are cloned onto every partition; the
-- statement-level TRUNCATE trigger is not, so partitions.ts adds it to each partition it creates.
-- (Retention — dropping a partition years later — stays possible for the schema owner, on purpose.)
create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege',
          hint = 'write a new audit_log row that records the correction instead';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_refuse_change();
create trigger audit_log_default_no_truncate before truncate on audit_log_default
  for each statement execute function audit_log_refuse_change();
