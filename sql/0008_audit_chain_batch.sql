-- Chaining a multi-row audit insert in O(n); 0005 made it O(n²). What is chained does not change: the same
-- chain_seq/prev_hash/hash, hash = SHA-256(prev_hash || UTF-8(audit_log_canonical(row))), the same head row
-- and the same verifier; rows written before and after this migration are one chain.
--
-- Why 0005 is quadratic: its row trigger locks the head (SELECT … FOR UPDATE) and UPDATEs it for every row.
-- Each UPDATE leaves a row version that cannot be pruned while the transaction is open, and the next row's
-- read of the head walks past all of them: row k of a batch reads k versions. The SPI store writes hundreds
-- of 5-8 KB rows per flush in one INSERT; a 500-payment flush went from 130 to 258 ms.
--
-- Now the head is LOCKED by every row, as before (the lock is taken by the first row of a transaction and
-- held until commit: writers serialise there, one chain, no fork under READ COMMITTED or stricter; taking
-- it again is cheap) but WRITTEN once per INSERT statement, by an AFTER … FOR EACH STATEMENT trigger. In
-- between, each row continues from the transaction's running tip, the row it chained last, kept in the
-- transaction-local setting fluxiq.audit_chain_tip = '<xid>/<seq>/<hash hex>'. A setting is transactional
-- like the rows: a savepoint rolled back takes its rows, its head update and its settings with it (and the
-- head lock, if it was taken inside), so the next row continues from the last row that survives.
--
-- The setting is only a hint: any role can set fluxiq.* to anything, even between two rows of one
-- INSERT … SELECT. What makes that harmless:
--   * the row trigger still locks the head on every row, and ignores a tip from another transaction or
--     behind the head. Without a usable tip it continues from the newest row above the head (rows above
--     the head are this statement's: another writer's cannot be, we hold the lock and a committed writer
--     moved the head before committing; or rows inserted straight into a partition, see below).
--   * the statement trigger checks, before it moves the head, that the rows above the head extend it
--     exactly: seq head+1, head+2, … each once, each prev_hash the hash of the row before. A forged tip
--     (a seq skipped or repeated) makes the statement fail; nothing of it is committed.
-- The check reads back the statement's rows (their chain columns, by the chain_seq index): O(n), small
-- next to hashing them. A session temp table would have been a trusted tip but was dropped as a design:
-- emptying it at each commit (ON COMMIT DELETE ROWS) cost ~1 ms per transaction here, on every dict write.
--
-- Consequences: the head moves at the end of each INSERT statement instead of at each row; no other
-- transaction can tell (the lock is held until commit). An insert straight into a partition (only the
-- owner may) fires the row trigger but not the parent's statement trigger: its rows are chained and the
-- head lags until the next insert through audit_log, which continues from them and moves the head;
-- meanwhile `audit verify` reports the lag as 'head'.
--
-- Also fixed here: the SECURITY DEFINER functions pin search_path to this schema THEN pg_temp. 0005 named
-- only the schema, and Postgres then searches pg_temp first: a caller's temp table called audit_chain_head
-- shadowed the real one inside the trigger (a role with TEMP could chain from a head of its choosing).
select set_config('search_path', quote_ident(current_schema()) || ', pg_temp', true);

create or replace function audit_log_chain() returns trigger language plpgsql security definer set search_path from current as $$
declare
  head audit_chain_head;
  hint text;
  tip_seq bigint;
  tip_hash bytea;
begin
  if new.chain_seq is not null or new.prev_hash is not null or new.hash is not null then
    -- The only legitimate insert that carries chain columns: partitions.ts moving rows out of the DEFAULT
    -- partition into a new month (DEFAULT is detached meanwhile and still holds the identical row).
    if new.chain_seq is not null and new.prev_hash is not null and new.hash is not null
       and not exists (select 1 from pg_inherits where inhrelid = to_regclass('audit_log_default'))
       and exists (select 1 from audit_log_default d where d.id = new.id and d.chain_seq = new.chain_seq and d.hash = new.hash)
       and new.hash = sha256(new.prev_hash || convert_to(audit_log_canonical(new.chain_seq, new.id, new.at, new.actor, new.action,
                                                           new.entity_type, new.entity_id, new.trace_id, new.detail), 'UTF8')) then
      return new;
    end if;
    raise exception 'audit_log chain columns are computed by the database, not supplied'
      using errcode = 'insufficient_privilege';
  end if;
  -- Every row locks the head; the lock is held until commit, so the next writer waits here and then sees
  -- the head this transaction leaves. Once held, locking it again is cheap, and the head is written only
  -- at the end of each statement, so there are few row versions to read past.
  select * into head from audit_chain_head for update;
  -- The running tip, '<xid>/<seq>/<hash hex>': the row this transaction chained last.
  hint := current_setting('fluxiq.audit_chain_tip', true);
  if hint is not null and split_part(hint, '/', 1) = pg_current_xact_id()::text then
    tip_seq := split_part(hint, '/', 2)::bigint;
    tip_hash := decode(split_part(hint, '/', 3), 'hex');
  end if;
  if tip_seq is null or tip_seq < head.seq then
    -- First row of the transaction (or the tip was lost): continue from the head, or from the newest row
    -- above it. Such rows are never another writer's in progress (we hold the lock) nor a committed
    -- writer's (it moved the head before committing), unless inserted straight into a partition.
    select l.chain_seq, l.hash into tip_seq, tip_hash from audit_log l
     where l.chain_seq > head.seq order by l.chain_seq desc limit 1;
    if not found then
      tip_seq := head.seq;
      tip_hash := head.hash;
    end if;
  end if;
  new.chain_seq := tip_seq + 1;
  new.prev_hash := tip_hash;
  new.hash := sha256(tip_hash || convert_to(audit_log_canonical(new.chain_seq, new.id, new.at, new.actor, new.action,
                                                                new.entity_type, new.entity_id, new.trace_id, new.detail), 'UTF8'));
  perform set_config('fluxiq.audit_chain_tip', pg_current_xact_id()::text || '/' || new.chain_seq || '/' || encode(new.hash, 'hex'), true);
  return new;
end
$$;

-- Once per INSERT statement on audit_log: check that the rows above the head extend it exactly (one row
-- per seq from head+1 on, each linked to the one before) and move the head to the newest. The tip the
-- row trigger read is a setting any caller can overwrite; whatever it was made to say, a statement whose
-- rows skip, repeat or fork the chain fails here and nothing of it is committed.
--
-- Its queries bound chain_seq by a variable (the head). Planned for the value (plan_cache_mode pinned: a
-- caller cannot force generic plans here), they read the few rows above the head by the chain_seq
-- indexes; a generic plan could guess a third of audit_log and scan it. The row trigger's one such query
-- is ORDER BY chain_seq LIMIT 1, an index descent whichever plan it gets.
create function audit_log_chain_head() returns trigger language plpgsql security definer
  set search_path from current set plan_cache_mode = force_custom_plan as $$
declare
  head audit_chain_head;
  n bigint;
  contiguous boolean;
  last_seq bigint;
  last_hash bytea;
begin
  -- a statement that chained nothing (a partition move, an empty insert) takes no lock
  select * into head from audit_chain_head;
  perform from audit_log l where l.chain_seq > head.seq order by l.chain_seq limit 1;
  if not found then
    return null;
  end if;
  -- held already if this transaction chained a row; rows above the head are then this transaction's
  select * into head from audit_chain_head for update;
  select count(*), bool_and(s.chain_seq = head.seq + s.rn and s.prev_hash = coalesce(s.before, head.hash)),
         max(s.chain_seq), (array_agg(s.hash order by s.chain_seq desc))[1]
    into n, contiguous, last_seq, last_hash
    from (select l.chain_seq, l.prev_hash, l.hash, row_number() over w as rn, lag(l.hash) over w as before
            from audit_log l where l.chain_seq > head.seq window w as (order by l.chain_seq)) s;
  if n = 0 then
    return null;
  end if;
  if not contiguous then
    raise exception 'audit_log rows above the chain head (seq %) do not extend it: a seq is skipped or repeated, or a row does not link to the one before', head.seq
      using errcode = 'integrity_constraint_violation';
  end if;
  update audit_chain_head set seq = last_seq, hash = last_hash;
  return null;
end
$$;

create trigger audit_log_chain_head after insert on audit_log
  for each statement execute function audit_log_chain_head();
