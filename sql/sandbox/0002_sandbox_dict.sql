-- The sandbox's DICT: entries (with the RequestId that created each, for its CID), claims, the CID event
-- log, sync verifications and CID set files, infraction reports, refunds, the RequestId log that makes
-- writes idempotent, token buckets, participant categories and known settled payments.
create table dict_entries (
  key                text primary key,
  key_type           text not null check (key_type in ('CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP')),
  participant        text not null,
  branch             text,
  account_number     text not null,
  account_type       text not null,
  opening_date       timestamptz not null,
  owner_type         text not null check (owner_type in ('NATURAL_PERSON', 'LEGAL_PERSON')),
  owner_tax_id       text not null,
  owner_name         text not null,
  owner_trade_name   text,
  request_id         uuid not null,
  cid                text not null,
  created_at         timestamptz not null,
  key_ownership_date timestamptz not null,
  updated_at         timestamptz not null
);
create index dict_entries_by_participant on dict_entries (participant, key_type);
create index dict_entries_by_account on dict_entries (participant, branch, account_number);
create index dict_entries_by_owner on dict_entries (owner_tax_id);
create index dict_entries_by_cid on dict_entries (cid);

-- every CID added to or removed from a participant's set; VSync at any instant is the XOR of the events
-- up to it (an add and a remove are both one XOR)
create table dict_cid_events (
  id          bigserial primary key,
  participant text not null,
  key_type    text not null,
  type        text not null check (type in ('ADDED', 'REMOVED')),
  cid         text not null,
  at          timestamptz not null
);
create index dict_cid_events_by_set on dict_cid_events (participant, key_type, at, id);

create table dict_claims (
  id                    uuid primary key,
  type                  text not null check (type in ('OWNERSHIP', 'PORTABILITY')),
  key                   text not null,
  key_type              text not null,
  status                text not null check (status in ('OPEN', 'WAITING_RESOLUTION', 'CONFIRMED', 'CANCELLED', 'COMPLETED')),
  claimer_participant   text not null,
  donor_participant     text not null,
  claimer_account       jsonb not null,
  claimer               jsonb not null,
  created_at            timestamptz not null,
  resolution_period_end timestamptz not null,
  completion_period_end timestamptz not null,
  last_modified         timestamptz not null,
  confirm_reason        text,
  cancel_reason         text,
  cancelled_by          text,
  -- the donor entry's KeyOwnershipDate, kept for a portability's new entry
  key_ownership_date    timestamptz not null
);
-- one claim at a time per key (ClaimAlreadyExistsForKey)
create unique index dict_claims_one_open_per_key on dict_claims (key) where status not in ('COMPLETED', 'CANCELLED');
create index dict_claims_by_claimer on dict_claims (claimer_participant, last_modified);
create index dict_claims_by_donor on dict_claims (donor_participant, last_modified);

create table dict_sync_verifications (
  id                  bigserial primary key,
  participant         text not null,
  key_type            text not null,
  participant_vsync   text not null,
  dict_vsync          text not null,
  result              text not null,
  at                  timestamptz not null
);

create table dict_cid_files (
  id            bigserial primary key,
  participant   text not null,
  key_type      text not null,
  request_time  timestamptz not null,
  creation_time timestamptz not null,
  content       text not null,
  bytes         bigint not null,
  sha256        text not null
);

-- settled payments the DICT knows of, for infraction reports and refunds (the SPI side may also be read)
create table dict_transactions (
  end_to_end_id   text primary key,
  debited         text not null,
  credited        text not null,
  amount_centavos bigint not null check (amount_centavos > 0),
  settled_at      timestamptz not null,
  credited_key    text
);

create table dict_infraction_reports (
  id                   uuid primary key,
  transaction_id       text not null,
  infraction_type      text not null,
  reported_by          text not null,
  report_details       text not null,
  status               text not null check (status in ('OPEN', 'ACKNOWLEDGED', 'CLOSED', 'CANCELLED')),
  debited_participant  text not null,
  credited_participant text not null,
  creation_time        timestamptz not null,
  last_modified        timestamptz not null,
  analysis_result      text,
  analysis_details     text
);
create unique index dict_infractions_one_open on dict_infraction_reports (transaction_id) where status in ('OPEN', 'ACKNOWLEDGED');

create table dict_refunds (
  id                      uuid primary key,
  transaction_id          text not null,
  refund_reason           text not null,
  amount_centavos         bigint not null check (amount_centavos > 0),
  refund_details          text,
  status                  text not null check (status in ('OPEN', 'CLOSED', 'CANCELLED')),
  requesting_participant  text not null,
  contested_participant   text not null,
  creation_time           timestamptz not null,
  last_modified           timestamptz not null,
  analysis_result         text,
  analysis_details        text,
  refund_transaction_id   text
);
create unique index dict_refunds_one_open on dict_refunds (transaction_id) where status = 'OPEN';

-- RequestId idempotency: the first answer to (participant, RequestId) and a digest of its content
create table dict_requests (
  participant    text not null,
  request_id     text not null,
  operation      text not null,
  content_digest text not null,
  status         int not null,
  response_xml   text not null,
  at             timestamptz not null,
  primary key (participant, request_id)
);

create table dict_buckets (
  scope_key      text primary key,
  tokens         double precision not null,
  refilled_at_ms bigint not null
);

create table dict_participant_categories (
  ispb     text primary key,
  category text not null check (category in ('A', 'B', 'C', 'D', 'E', 'F'))
);
