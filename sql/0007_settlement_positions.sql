-- Gross positions per participant in each settlement window, accumulated by the settlement service from
-- SPI's payment events (JetStream PIX_PAYMENTS, `pix.payments.{outbound,inbound}.settled`). The window
-- close nets these rows (services/settlement/windows/store.ts), not a scan of `transactions`.
--
-- Every event counted is kept here by its event id (`<EndToEndId>.SETTLED`), written in the same
-- transaction as the position it adds to: a redelivered event finds its id and adds nothing.
-- Rows are pruned once their window is older than the stream's retention (7 days), when no redelivery
-- can come any more (positions/store.ts POSITION_EVENTS_KEPT_MS).
create table settlement_position_events (
  event_id         text        primary key check (length(event_id) between 1 and 128),
  window_id        text        not null check (window_id ~ '^W[0-9]{10}$'),
  end_to_end_id    char(32)    not null check (end_to_end_id ~ '^E[0-9A-Z]{8}[0-9]{12}[a-zA-Z0-9]{11}$'),
  debtor_ispb      char(8)     not null check (debtor_ispb ~ '^[0-9A-Z]{8}$'),
  creditor_ispb    char(8)     not null check (creditor_ispb ~ '^[0-9A-Z]{8}$'),
  amount_centavos  bigint      not null check (amount_centavos > 0),
  settled_at       timestamptz not null,
  received_at      timestamptz not null,
  -- a payment within one participant never reaches SPI (book transfer)
  constraint settlement_position_events_two_parties check (debtor_ispb <> creditor_ispb)
);

create index settlement_position_events_window_idx on settlement_position_events (window_id);

-- Σ over the window's events, per participant: what it paid (debit) and received (credit).
create table settlement_positions (
  window_id              text        not null check (window_id ~ '^W[0-9]{10}$'),
  participant_ispb       char(8)     not null check (participant_ispb ~ '^[0-9A-Z]{8}$'),
  gross_debit_centavos   bigint      not null check (gross_debit_centavos >= 0),
  gross_credit_centavos  bigint      not null check (gross_credit_centavos >= 0),
  -- payments the participant took part in, on either side
  payments               integer     not null check (payments >= 0),
  updated_at             timestamptz not null,
  primary key (window_id, participant_ispb)
);
