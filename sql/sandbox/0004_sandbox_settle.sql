-- Settlement of one batch (payments and returns) in one statement: `select * from spi_settle(items, at)`.
-- It was a client-side transaction of seven round trips (begin, lock the accounts, read the duplicates,
-- update balances, insert payments, insert entries, commit) for a batch that, at 100 payments/s, holds one
-- or two payments; one call is one round trip and one commit, and the sandbox's Postgres and socket CPU per
-- payment fell with it (loadtest/RESULTS.md). The rules are those services/bacen-sandbox/spi/store.ts
-- documents: every PI account the batch touches is locked in ISPB order (two batches never deadlock), each
-- item is decided in arrival order against the running balances, and nothing goes negative.
--
-- items: a JSON array, one object per item, in arrival order:
--   payment {"k":"p","e2e","msg","d" (debtor ISPB),"c" (creditor ISPB),"amt" (centavos, a string),"rej"?}
--   return  {"k":"r","id" (ReturnId),"e2e" (original),"d" (returner ISPB),"c" (receiver ISPB),"amt","why"}
-- returns one row per item, in the same order: outcome 'SETTLED' | 'REJECTED' and its reason.
create function spi_settle(items jsonb, booked timestamptz) returns table (ord int, outcome text, reason text)
language plpgsql as $$
declare
  acct_ispb text[];
  acct_bal bigint[];
  acct_was bigint[];
  seen text[];
  used text[];
  it jsonb;
  n int := 0;
  d int;
  c int;
  amt bigint;
  o record;
  p_e2e text[] := '{}'; p_msg text[] := '{}'; p_d text[] := '{}'; p_c text[] := '{}';
  p_amt bigint[] := '{}'; p_status text[] := '{}'; p_reason text[] := '{}';
  e_ispb text[] := '{}'; e_ref text[] := '{}'; e_kind text[] := '{}'; e_dir text[] := '{}'; e_amt bigint[] := '{}';
begin
  select coalesce(array_agg(l.ispb order by l.ispb), '{}'), coalesce(array_agg(l.balance_centavos order by l.ispb), '{}')
    into acct_ispb, acct_bal
    from (select a.ispb, a.balance_centavos from spi_accounts a
          where a.ispb in (select x->>'d' from jsonb_array_elements(items) x union select x->>'c' from jsonb_array_elements(items) x)
          order by a.ispb for update) l;
  acct_was := acct_bal;
  select coalesce(array_agg(p.end_to_end_id), '{}') into seen from spi_payments p
    where p.end_to_end_id in (select x->>'e2e' from jsonb_array_elements(items) x where x->>'k' = 'p');
  select coalesce(array_agg(r.return_id), '{}') into used from spi_returns r
    where r.return_id in (select x->>'id' from jsonb_array_elements(items) x where x->>'k' = 'r');

  for it in select x from jsonb_array_elements(items) x loop
    n := n + 1;
    ord := n;
    amt := (it->>'amt')::bigint;
    d := array_position(acct_ispb, it->>'d');
    c := array_position(acct_ispb, it->>'c');
    reason := null;
    if it->>'k' = 'p' then
      if (it->>'e2e') = any(seen) then
        -- a duplicate is answered but not recorded: the first payment owns the EndToEndId
        outcome := 'REJECTED'; reason := 'AM05';
        return next;
        continue;
      end if;
      if it ? 'rej' then outcome := 'REJECTED'; reason := it->>'rej';
      elsif d is null or c is null then outcome := 'REJECTED'; reason := 'AC03';
      elsif acct_bal[d] < amt then outcome := 'REJECTED'; reason := 'AM04';
      else
        acct_bal[d] := acct_bal[d] - amt;
        acct_bal[c] := acct_bal[c] + amt;
        e_ispb := e_ispb || array[it->>'d', it->>'c']; e_ref := e_ref || array[it->>'e2e', it->>'e2e'];
        e_kind := e_kind || array['PACS008', 'PACS008']; e_dir := e_dir || array['DBIT', 'CRDT']; e_amt := e_amt || array[amt, amt];
        outcome := 'SETTLED';
      end if;
      seen := seen || (it->>'e2e');
      p_e2e := p_e2e || (it->>'e2e'); p_msg := p_msg || (it->>'msg'); p_d := p_d || (it->>'d'); p_c := p_c || (it->>'c');
      p_amt := p_amt || amt; p_status := p_status || outcome; p_reason := p_reason || reason;
      return next;
    else
      if (it->>'id') = any(used) then
        outcome := 'REJECTED'; reason := 'AM05';
        return next;
        continue;
      end if;
      -- the original as this batch found it (a payment settled in the same batch is not yet visible: FF07)
      select p.debtor_ispb, p.creditor_ispb, p.amount_centavos, p.returned_centavos, p.status into o
        from spi_payments p where p.end_to_end_id = it->>'e2e' for update;
      if not found or o.status <> 'SETTLED' or o.creditor_ispb <> it->>'d' or o.debtor_ispb <> it->>'c' then outcome := 'REJECTED'; reason := 'FF07';
      elsif o.returned_centavos + amt > o.amount_centavos then outcome := 'REJECTED'; reason := 'AM09';
      elsif d is null or c is null or acct_bal[d] < amt then outcome := 'REJECTED'; reason := 'AM04';
      else
        update spi_payments p set returned_centavos = p.returned_centavos + amt where p.end_to_end_id = it->>'e2e';
        acct_bal[d] := acct_bal[d] - amt;
        acct_bal[c] := acct_bal[c] + amt;
        e_ispb := e_ispb || array[it->>'d', it->>'c']; e_ref := e_ref || array[it->>'id', it->>'id'];
        e_kind := e_kind || array['PACS004', 'PACS004']; e_dir := e_dir || array['DBIT', 'CRDT']; e_amt := e_amt || array[amt, amt];
        outcome := 'SETTLED';
      end if;
      used := used || (it->>'id');
      insert into spi_returns (return_id, end_to_end_id, returner_ispb, receiver_ispb, amount_centavos, reason, status, reject_reason, decided_at)
        values (it->>'id', it->>'e2e', it->>'d', it->>'c', amt, it->>'why', outcome, reason, booked);
      return next;
    end if;
  end loop;

  -- the invariant the CHECK also enforces: no PI account goes negative
  for i in 1 .. coalesce(array_length(acct_bal, 1), 0) loop
    if acct_bal[i] < 0 then raise exception 'PI account % would go negative', acct_ispb[i]; end if;
  end loop;
  update spi_accounts a set balance_centavos = v.b
    from unnest(acct_ispb, acct_bal, acct_was) v(ispb, b, was) where a.ispb = v.ispb and v.b <> v.was;
  if array_length(p_e2e, 1) > 0 then
    insert into spi_payments (end_to_end_id, msg_id, debtor_ispb, creditor_ispb, amount_centavos, status, reason, decided_at)
      select v.*, booked from unnest(p_e2e, p_msg, p_d, p_c, p_amt, p_status, p_reason) v;
  end if;
  if array_length(e_ispb, 1) > 0 then
    insert into spi_entries (ispb, reference, kind, direction, amount_centavos, booked_at)
      select v.*, booked from unnest(e_ispb, e_ref, e_kind, e_dir, e_amt) v;
  end if;
end;
$$;
