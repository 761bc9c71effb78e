-- Book transfers (PIX.md § Keys: a payment whose payee is at our own ISPB never reaches SPI): the payer is
-- debited and the payee credited in ONE ledger transaction (ref BOOK:<e2e>, kind BOOK_TRANSFER), written in
-- the same database transaction as the payment row. The kind check of 0003 gains the new kind.
alter table ledger_transactions drop constraint ledger_transactions_kind_check;
alter table ledger_transactions add constraint ledger_transactions_kind_check
  check (kind in ('PAYMENT_OUT', 'PAYMENT_IN', 'RETURN_OUT', 'RETURN_IN', 'DEPOSIT', 'BOOK_TRANSFER'));

-- Their transactions row is SETTLED with settled_at NULL: settled_at is SPI's settlement time (it goes
-- with pacs002_status ACSC, 0001's transactions_settled_needs_acsc), and a book transfer never settles in
-- SPI; so settlement windows and reconciliation, which count rows by settled_at, leave it out as they must.
