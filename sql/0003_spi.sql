-- SPI service: the built-in account ledger (double entry), payment idempotency, returns, BR Code charges,
-- the signed messages exchanged with SPI (byte for byte, both directions) and webhook deliveries.
-- Payments themselves live in `transactions` (0001): one row per EndToEndId, written in batches.
-- Money is bigint centavos. Schema-agnostic (search_path), like 0001.

-- Accounts of the built-in account authority. CUSTOMER accounts belong to our clients; SYSTEM accounts
-- are the institution's own books (SPI clearing against our PI account, funding of test deposits).
create table ledger_accounts (
  id                  bigint      generated always as identity primary key,
  kind                text        not null check (kind in ('CUSTOMER', 'SYSTEM')),
  code                text        unique check (code ~ '^[A-Z_]{1,32}$'),      -- SYSTEM accounts only
  branch              char(4)     check (branch ~ '^[0-9]{4}$'),
  number              text        check (number ~ '^[0-9]{1,20}$'),
  account_type        text        check (account_type in ('CACC', 'SVGS', 'SLRY', 'TRAN')),
  holder_tax_id       text        check (holder_tax_id ~ '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$'),
  holder_name         text        check (length(holder_name) between 1 and 140),
  status              text        not null default 'ACTIVE' check (status in ('ACTIVE', 'BLOCKED', 'CLOSED')),
  -- how far below zero the account may go; 0 = never negative (the default rule)
  overdraft_centavos  bigint      not null default 0 check (overdraft_centavos >= 0),
  -- running sum of the account's ledger_entries, updated in the same transaction as the entries
  balance_centavos    bigint      not null default 0,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  unique (branch, number),
  constraint ledger_accounts_identity check (
    (kind = 'SYSTEM' and code is not null) or
    (kind = 'CUSTOMER' and code is null and branch is not null and number is not null and account_type is not null
      and holder_tax_id is not null and holder_name is not null)),
  -- the database refuses a customer balance below its overdraft even if the service had a bug
  constraint ledger_accounts_never_below_overdraft check (kind = 'SYSTEM' or balance_centavos >= -overdraft_centavos)
);

-- One ledger transaction per money movement (ref = PAY:<e2e>, IN:<e2e>, RET:<returnId>, DEP:<id>):
-- the primary key makes every movement happen once, whoever retries it.
create table ledger_transactions (
  ref          text        primary key check (ref ~ '^[A-Z]{2,4}:[A-Za-z0-9-]{1,64}$'),
  kind         text        not null check (kind in ('PAYMENT_OUT', 'PAYMENT_IN', 'RETURN_OUT', 'RETURN_IN', 'DEPOSIT')),
  created_at   timestamptz not null default now()
);

create table ledger_entries (
  id               bigint      generated always as identity primary key,
  ref              text        not null references ledger_transactions (ref),
  account_id       bigint      not null references ledger_accounts (id),
  amount_centavos  bigint      not null check (amount_centavos <> 0),   -- + credit, − debit
  created_at       timestamptz not null default now()
);
create index ledger_entries_ref_idx on ledger_entries (ref);
create index ledger_entries_account_idx on ledger_entries (account_id, id);

-- Double entry: the entries of one ledger transaction sum to zero, checked at commit (deferred) so a
-- transaction's entries may be inserted in any order within the database transaction.
create function ledger_entries_balanced() returns trigger language plpgsql as $$
declare total bigint;
begin
  select coalesce(sum(amount_centavos), 0) into total from ledger_entries where ref = new.ref;
  if total <> 0 then
    raise exception 'ledger transaction % does not balance (sum %)', new.ref, total using errcode = 'check_violation';
  end if;
  return null;
end
$$;
create constraint trigger ledger_entries_balanced after insert on ledger_entries
  deferrable initially deferred for each row execute function ledger_entries_balanced();

create function ledger_entries_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'ledger_entries is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger ledger_entries_append_only before update or delete on ledger_entries
  for each row execute function ledger_entries_append_only();

insert into ledger_accounts (kind, code) values ('SYSTEM', 'SPI_CLEARING'), ('SYSTEM', 'FUNDING');

-- Idempotency-Key → payment, the database's word behind the Redis store (Redis can lose a key; this cannot).
create table spi_idempotency (
  idempotency_key  text        primary key check (length(idempotency_key) between 1 and 255),
  request_hash     char(64)    not null check (request_hash ~ '^[0-9a-f]{64}$'),
  end_to_end_id    char(32)    not null,
  created_at       timestamptz not null default now()
);

-- Returns (pacs.004), both directions. The sum per original never exceeds the original amount: the
-- service checks it under a row lock on the original; amounts are positive.
create table spi_returns (
  return_id         char(32)    primary key check (return_id ~ '^D[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$'),
  end_to_end_id     char(32)    not null,
  direction         text        not null check (direction in ('OUTBOUND', 'INBOUND')),
  amount_centavos   bigint      not null check (amount_centavos > 0),
  reason            text        not null check (reason in ('BE08', 'FR01', 'MD06', 'SL02')),
  status            text        not null check (status ~ '^[A-Z_]{1,32}$'),
  reject_reason     text        check (reject_reason ~ '^[A-Z0-9]{4}$'),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);
create index spi_returns_e2e_idx on spi_returns (end_to_end_id);

-- Every SPI message, exactly as signed and sent or as received (evidence for disputes and MED),
-- RANGE-partitioned by UTC month like transactions (DEFAULT partition here; months by the maintainer).
create table spi_messages (
  id             bigint      generated always as identity,
  msg_id         text        not null,
  msg_type       text        not null check (msg_type ~ '^[a-z]{4}\.[0-9]{3}$'),
  direction      text        not null check (direction in ('IN', 'OUT')),
  end_to_end_id  text,
  signed_xml     text        not null,
  created_at     timestamptz not null default now(),
  primary key (id, created_at)
) partition by range (created_at);
create table spi_messages_default partition of spi_messages default;
create index spi_messages_e2e_idx on spi_messages (end_to_end_id, created_at);

-- BR Code charges (cob: immediate, cobv: with due date), served to payers as a signed JWS.
create table spi_charges (
  txid              text        primary key check (txid ~ '^[a-zA-Z0-9]{26,35}$'),
  kind              text        not null check (kind in ('cob', 'cobv')),
  pix_key           text        not null,
  amount_centavos   bigint      not null check (amount_centavos > 0),
  payee_name        text        not null check (length(payee_name) between 1 and 140),
  payee_city        text        not null,
  payee_tax_id      text,
  payer_tax_id      text,
  payer_name        text,
  due_date          date,
  expires_in_s      integer     not null check (expires_in_s > 0),
  revision          integer     not null default 0,
  status            text        not null default 'ATIVA' check (status in ('ATIVA', 'CONCLUIDA', 'REMOVIDA_PELO_USUARIO_RECEBEDOR')),
  paid_end_to_end_id char(32),
  created_at        timestamptz not null default now(),
  constraint spi_charges_cobv_due check ((kind = 'cobv') = (due_date is not null))
);

-- Webhooks: subscriptions, one event per (subscription, event id), every delivery attempt kept.
create table spi_webhook_subscriptions (
  id          uuid        primary key,
  url         text        not null check (url ~ '^https?://'),
  secret      text        not null check (length(secret) >= 16),
  events      text[]      not null,
  active      boolean     not null default true,
  created_at  timestamptz not null default now()
);

create table spi_webhook_deliveries (
  subscription_id  uuid        not null references spi_webhook_subscriptions (id),
  event_id         text        not null,
  event_type       text        not null,
  body             text        not null,     -- the exact bytes signed and sent
  status           text        not null check (status in ('PENDING', 'DELIVERED', 'FAILED')),
  attempts         integer     not null default 0,
  next_attempt_at  timestamptz not null,
  created_at       timestamptz not null default now(),
  delivered_at     timestamptz,
  primary key (subscription_id, event_id)
);
create index spi_webhook_deliveries_due_idx on spi_webhook_deliveries (next_attempt_at) where status = 'PENDING';

create table spi_webhook_attempts (
  subscription_id  uuid        not null,
  event_id         text        not null,
  attempt          integer     not null check (attempt >= 1),
  at               timestamptz not null,
  status_code      integer,
  error            text,
  duration_ms      integer     not null,
  primary key (subscription_id, event_id, attempt),
  foreign key (subscription_id, event_id) references spi_webhook_deliveries (subscription_id, event_id)
);
