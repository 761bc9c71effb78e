-- The sandbox's SPI: PI accounts (settled gross in real time, never negative), reserve accounts (STR),
-- settled and rejected payments, returns, the ledger of every balance movement (camt.053), and the
-- per-participant inbox that ICOM-style polling reads.
create table spi_accounts (
  ispb             text primary key,
  balance_centavos bigint not null check (balance_centavos >= 0)
);

create table spi_reserves (
  ispb             text primary key,
  balance_centavos bigint not null check (balance_centavos >= 0)
);

create table spi_payments (
  end_to_end_id      text primary key,
  msg_id             text not null,
  debtor_ispb        text not null,
  creditor_ispb      text not null,
  amount_centavos    bigint not null check (amount_centavos > 0),
  returned_centavos  bigint not null default 0 check (returned_centavos >= 0 and returned_centavos <= amount_centavos),
  status             text not null check (status in ('SETTLED', 'REJECTED')),
  reason             text,
  decided_at         timestamptz not null
);

create table spi_returns (
  return_id       text primary key,
  end_to_end_id   text not null,
  returner_ispb   text not null,
  receiver_ispb   text not null,
  amount_centavos bigint not null check (amount_centavos > 0),
  reason          text not null,
  status          text not null check (status in ('SETTLED', 'REJECTED')),
  reject_reason   text,
  decided_at      timestamptz not null
);

-- every movement of a PI account, written in the same transaction as the balance change
create table spi_entries (
  id              bigserial primary key,
  ispb            text not null,
  reference       text not null,
  kind            text not null check (kind in ('PACS008', 'PACS004', 'STR')),
  direction       text not null check (direction in ('CRDT', 'DBIT')),
  amount_centavos bigint not null check (amount_centavos > 0),
  booked_at       timestamptz not null
);
create index spi_entries_by_account on spi_entries (ispb, booked_at);

create table spi_str_transfers (
  id              text primary key,
  ispb            text not null,
  direction       text not null check (direction in ('TO_PI', 'TO_RESERVE')),
  amount_centavos bigint not null check (amount_centavos > 0),
  at              timestamptz not null
);

-- the inbox: a message is leased to one poller (lease_id, leased_until) and removed when acknowledged;
-- an expired lease makes it available again (a poller that crashed does not lose messages)
create table spi_inbox (
  seq          bigserial primary key,
  ispb         text not null,
  msg_type     text not null,
  msg_id       text not null,
  xml          text not null,
  available_at timestamptz not null,
  lease_id     text,
  leased_until timestamptz
);
create index spi_inbox_ready on spi_inbox (ispb, seq);
create index spi_inbox_lease on spi_inbox (lease_id);
