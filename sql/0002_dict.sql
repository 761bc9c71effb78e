-- DICT service tables (services/dict). Keys themselves live in pix_keys (0001); every change to them is
-- recorded in audit_log (0001) in the same transaction. State columns owned by a transition table in the
-- service only get a format CHECK here (0001's convention). Deadlines and timers are rows, not in-memory
-- timers, so a restart loses none: workers select what is due by the injected clock.

-- Proof that the end user controls a PHONE or EMAIL before it is registered (PIX.md § Keys). Only a
-- SHA-256 of the code is stored; the code travels through the ConfirmationSender alone.
create table dict_confirmations (
  id                uuid        primary key,
  key_type          text        not null check (key_type in ('PHONE', 'EMAIL')),
  key               text        not null,
  participant_ispb  char(8)     not null check (participant_ispb ~ '^[0-9A-Z]{8}$'),
  branch            char(4)     not null check (branch ~ '^[0-9]{4}$'),
  account_number    text        not null check (account_number ~ '^[0-9]{1,20}$'),
  owner_tax_id      text        not null,
  code_sha256       char(64)    not null check (code_sha256 ~ '^[0-9a-f]{64}$'),
  attempts          int         not null default 0 check (attempts >= 0),
  expires_at        timestamptz not null,
  confirmed_at      timestamptz,
  consumed_at       timestamptz,
  created_at        timestamptz not null
);
create index dict_confirmations_key_idx on dict_confirmations (key_type, key, created_at desc);

-- Claims in both roles. `id` is DICT's claim id. `next_action_at`/`next_action` is the claim's timer
-- (cancel for default, confirm for default, complete): the claim worker takes due rows in batches.
create table dict_claims (
  id                     uuid        primary key,
  role                   text        not null check (role in ('CLAIMER', 'DONOR')),
  claim_type             text        not null check (claim_type in ('OWNERSHIP', 'PORTABILITY')),
  key                    text        not null,
  key_type               text        not null check (key_type in ('CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP')),
  status                 text        not null check (status ~ '^[A-Z_]{1,32}$'),
  claimer_ispb           char(8)     not null check (claimer_ispb ~ '^[0-9A-Z]{8}$'),
  donor_ispb             char(8)     not null check (donor_ispb ~ '^[0-9A-Z]{8}$'),
  claimer_branch         char(4)     not null check (claimer_branch ~ '^[0-9]{4}$'),
  claimer_account_number text        not null,
  claimer_account_type   text        not null check (claimer_account_type in ('CACC', 'SVGS', 'SLRY', 'TRAN')),
  claimer_opened_at      timestamptz not null,
  claimer_owner_type     text        not null check (claimer_owner_type in ('NATURAL_PERSON', 'LEGAL_PERSON')),
  claimer_tax_id         text        not null,
  claimer_name           text        not null,
  claimer_trade_name     text,
  resolution_period_end  timestamptz not null,
  completion_period_end  timestamptz not null,
  last_modified          timestamptz not null,
  confirm_reason         text,
  cancel_reason          text,
  cancelled_by           text        check (cancelled_by in ('CLAIMER', 'DONOR')),
  -- the RequestId of our completeClaim, chosen once so a retried completion replays (and the CID of
  -- the entry the completion creates is keyed by it)
  complete_request_id    uuid,
  next_action            text        check (next_action ~ '^[A-Z_]{1,32}$'),
  next_action_at         timestamptz,
  created_at             timestamptz not null,
  updated_at             timestamptz not null,
  constraint dict_claims_timer_whole check ((next_action is null) = (next_action_at is null))
);
-- one open claim per key (DICT refuses a second: ClaimAlreadyExistsForKey)
create unique index dict_claims_open_key on dict_claims (key) where status not in ('COMPLETED', 'CANCELLED');
create index dict_claims_due_idx on dict_claims (next_action_at) where next_action_at is not null;

-- Where the claim poller left off (listClaims ModifiedAfter), so a restart resumes instead of re-reading.
create table dict_sync_cursors (
  name        text        primary key,
  cursor_at   timestamptz not null,
  updated_at  timestamptz not null
);

-- VSync per key type = XOR of the type's CIDs (PIX.md § Reconciliation), updated in the same transaction
-- as the pix_keys write that adds or removes a CID.
create table dict_vsyncs (
  key_type    text        primary key check (key_type in ('CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP')),
  vsync       char(64)    not null check (vsync ~ '^[0-9a-f]{64}$'),
  entries     bigint      not null check (entries >= 0),
  updated_at  timestamptz not null
);
insert into dict_vsyncs (key_type, vsync, entries, updated_at)
select t, repeat('0', 64), 0, now() from unnest(array['CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP']) t;

-- One row per sync verification run; on mismatch, what was repaired.
create table dict_sync_reports (
  id            uuid        primary key,
  key_type      text        not null check (key_type in ('CPF', 'CNPJ', 'PHONE', 'EMAIL', 'EVP')),
  local_vsync   char(64)    not null,
  dict_vsync    char(64)    not null,
  result        text        not null check (result in ('OK', 'REPAIRED', 'FAILED')),
  added         int         not null default 0,
  removed       int         not null default 0,
  detail        jsonb       not null default '{}'::jsonb,
  started_at    timestamptz not null,
  finished_at   timestamptz not null
);

-- MED infraction reports in both roles (we reported / we were reported).
create table dict_infraction_reports (
  id                 uuid        primary key,
  role               text        not null check (role in ('REPORTER', 'REPORTED')),
  end_to_end_id      char(32)    not null,
  report_type        text        not null check (report_type ~ '^[A-Z_]{1,40}$'),
  status             text        not null check (status ~ '^[A-Z_]{1,32}$'),
  reporter_ispb      char(8)     not null,
  counterparty_ispb  char(8)     not null,
  details            text,
  analysis_result    text        check (analysis_result in ('AGREED', 'DISAGREED')),
  analysis_details   text,
  last_modified      timestamptz not null,
  created_at         timestamptz not null,
  updated_at         timestamptz not null
);
create index dict_infraction_reports_e2e_idx on dict_infraction_reports (end_to_end_id);

-- MED refund requests in both roles (we asked as payer's PSP / we answer as payee's PSP).
create table dict_refunds (
  id                        uuid        primary key,
  role                      text        not null check (role in ('REQUESTER', 'CONTESTED')),
  end_to_end_id             char(32)    not null,
  infraction_report_id      uuid,
  reason                    text        not null check (reason in ('FRAUD', 'OPERATIONAL_FLAW', 'REFUND_CANCELLED')),
  amount_centavos           bigint      not null check (amount_centavos > 0),
  refunded_centavos         bigint      check (refunded_centavos >= 0),
  status                    text        not null check (status ~ '^[A-Z_]{1,32}$'),
  analysis_result           text        check (analysis_result in ('TOTALLY_ACCEPTED', 'PARTIALLY_ACCEPTED', 'REJECTED')),
  analysis_details          text,
  refund_transaction_id     text,
  requester_ispb            char(8)     not null,
  contested_ispb            char(8)     not null,
  answer_due_at             timestamptz not null,
  last_modified             timestamptz not null,
  created_at                timestamptz not null,
  updated_at                timestamptz not null
);
create index dict_refunds_e2e_idx on dict_refunds (end_to_end_id);

-- Cautionary blocks (MED): funds held on one of our accounts for up to 72 h while a report is analysed.
create table dict_cautionary_blocks (
  id               uuid        primary key,
  end_to_end_id    char(32)    not null,
  hop              int         not null check (hop >= 0),
  participant_ispb char(8)     not null,
  branch           char(4),
  account_number   text        not null,
  amount_centavos  bigint      not null check (amount_centavos > 0),
  status           text        not null check (status in ('ACTIVE', 'RELEASED', 'EXPIRED')),
  blocked_until    timestamptz not null,
  released_at      timestamptz,
  created_at       timestamptz not null,
  constraint dict_cautionary_blocks_72h check (blocked_until <= created_at + interval '72 hours')
);
create index dict_cautionary_blocks_active_idx on dict_cautionary_blocks (blocked_until) where status = 'ACTIVE';

-- Transactional outbox for pix.keys.* events: the event row is written in the same transaction as the
-- change it announces, published right after commit, and re-published by the relay if that failed
-- (the Nats-Msg-Id is the row id, so a re-publish inside the duplicate window is stored once).
create table dict_outbox (
  id            text        primary key check (length(id) between 1 and 128),
  subject       text        not null,
  payload       jsonb       not null,
  created_at    timestamptz not null,
  published_at  timestamptz
);
create index dict_outbox_pending_idx on dict_outbox (created_at) where published_at is null;
