-- Hash chain over audit_log (issue 9): every row carries its position in the chain (chain_seq, 1, 2, …),
-- the previous row's hash and its own hash = SHA-256(prev_hash || UTF-8(audit_log_canonical(row))). Editing,
-- removing or inserting a row anywhere breaks the link at that row; `./fluxiq audit verify` walks the chain.
--
-- Where the chain is computed: a BEFORE INSERT trigger, not a single writer process. Rows are written by
-- several services (dict today; spi and settlement as they record money changes), each inside the
-- transaction of the change it records. A trigger chains every committed row at commit with no extra hop,
-- no service can bypass it, and it needs no leader election; a single writer would need a staging table,
-- a lease and would leave the tail unchained for as long as it lags. The cost: writers serialise on the
-- one-row audit_chain_head from their audit insert until they commit, so write the audit row last in a
-- transaction (dict already does). The row lock is safe under READ COMMITTED (the update re-reads the
-- committed head) and under REPEATABLE READ/SERIALIZABLE (a concurrent head change is a serialization
-- failure, never a fork).
--
-- Order is chain_seq, not id: an identity value is drawn before the trigger waits for the head lock, so
-- ids can commit out of order; chain_seq is assigned under the lock.
--
-- Who may do what (production): the schema and its tables belong to a migration role; services connect
-- as an application role that is NOT the owner and is granted only what it needs:
--   create role fluxiq_owner nologin;  create role fluxiq_app login password '…';
--   alter schema fluxiq owner to fluxiq_owner;   -- run ./fluxiq migrate as fluxiq_owner
--   grant usage on schema fluxiq to fluxiq_app;
--   grant select, insert on fluxiq.audit_log to fluxiq_app;          -- no update, delete, truncate
--   grant select, insert, update, delete on <the other tables> to fluxiq_app;
--   (no grant at all on audit_chain_head: the trigger function below runs as its owner)
-- Without UPDATE/DELETE/TRUNCATE the role is refused before any trigger runs; not being the owner it
-- cannot ALTER TABLE … DISABLE TRIGGER, and not being superuser it cannot set session_replication_role.
-- The append-only triggers of 0001 still stop the owner by accident. Someone holding the owner role can
-- rewrite the whole chain from the tampered row on: record the head that `audit verify` prints somewhere
-- they cannot write (the daily report) and compare it.

alter table audit_log
  add column chain_seq bigint,
  add column prev_hash bytea,
  add column hash      bytea;

-- The chain's tip. One row; its row lock is what serialises writers.
create table audit_chain_head (
  singleton boolean primary key default true check (singleton),
  seq       bigint  not null check (seq >= 0),
  hash      bytea   not null check (length(hash) = 32)
);
-- genesis: the first row's prev_hash is 32 zero bytes
insert into audit_chain_head (seq, hash) values (0, decode(repeat('00', 32), 'hex'));
revoke all on audit_chain_head from public;

-- The bytes a row's hash covers: a JSON array, so no field can bleed into the next. Numbers as text (no
-- float rounding), the time in UTC with microseconds whatever the session's TimeZone/DateStyle, detail as
-- jsonb's own normalised text (keys sorted, whitespace fixed).
create function audit_log_canonical(
  chain_seq bigint, id bigint, at timestamptz, actor text, action text,
  entity_type text, entity_id text, trace_id text, detail jsonb
) returns text language sql stable parallel safe
return jsonb_build_array(
  chain_seq::text, id::text, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  actor, action, entity_type, entity_id, trace_id, detail
)::text;

-- Chain the rows already there (in id order) before the trigger exists. The append-only trigger is lifted
-- for this one transaction only: the rows gain their chain columns, their content is not changed.
alter table audit_log disable trigger audit_log_append_only;
do $$
declare
  r record;
  h bytea := decode(repeat('00', 32), 'hex');
  s bigint := 0;
begin
  for r in select * from audit_log order by id loop
    s := s + 1;
    h := sha256(h || convert_to(audit_log_canonical(s, r.id, r.at, r.actor, r.action, r.entity_type, r.entity_id, r.trace_id, r.detail), 'UTF8'));
    update audit_log set chain_seq = s, prev_hash = (select hash from audit_chain_head), hash = h where id = r.id and at = r.at;
    update audit_chain_head set seq = s, hash = h;
  end loop;
end
$$;
alter table audit_log enable trigger audit_log_append_only;

alter table audit_log
  alter column chain_seq set not null,
  alter column prev_hash set not null,
  alter column hash set not null,
  add constraint audit_log_hash_size check (length(prev_hash) = 32 and length(hash) = 32);
-- the verifier walks chain_seq in batches; each partition gets its own index
create index audit_log_chain_seq_idx on audit_log (chain_seq);

-- SECURITY DEFINER so the application role needs no privilege on audit_chain_head; search_path pinned to
-- this schema (the migration's) so nothing on the caller's path can shadow a name used here.
create function audit_log_chain() returns trigger language plpgsql security definer set search_path from current as $$
declare
  tip audit_chain_head;
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
  -- the row lock on the head is held until commit: the next writer waits here and then sees this row's hash
  select * into tip from audit_chain_head for update;
  new.chain_seq := tip.seq + 1;
  new.prev_hash := tip.hash;
  new.hash := sha256(tip.hash || convert_to(audit_log_canonical(new.chain_seq, new.id, new.at, new.actor, new.action,
                                                                new.entity_type, new.entity_id, new.trace_id, new.detail), 'UTF8'));
  update audit_chain_head set seq = new.chain_seq, hash = new.hash;
  return new;
end
$$;

create trigger audit_log_chain before insert on audit_log
  for each row execute function audit_log_chain();
