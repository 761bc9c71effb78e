-- Gateway (settlement service, :4003): who may call the public API and how often.
-- Users log in with a password (argon2id hash from Bun.password); systems use OAuth2-style client
-- credentials (the secret is stored as an argon2id hash too, never in clear). Scopes are stored per
-- principal and copied into each access token; the rate-limit tier names the requests allowed per window.

-- Requests per sliding window for a principal; the gateway loads this table at start and again when
-- `gateway.tiers.changed` is published on NATS.
create table rate_limit_tiers (
  name          text        primary key check (name ~ '^[a-z][a-z0-9_-]{0,31}$'),
  requests_max  integer     not null check (requests_max between 1 and 100000),
  window_ms     integer     not null check (window_ms between 1000 and 3600000),
  updated_at    timestamptz not null default now()
);

insert into rate_limit_tiers (name, requests_max, window_ms) values
  ('standard', 100, 60000),
  ('partner', 1000, 60000),
  ('internal', 10000, 60000);

-- The scopes the public API knows; a principal holds a subset.
create table api_scopes (
  name        text primary key check (name ~ '^[a-z]+(:[a-z]+)?$'),
  description text not null
);

insert into api_scopes (name, description) values
  ('dict:read', 'look up keys and read claims'),
  ('dict:write', 'register, remove and claim keys'),
  ('payments:read', 'read payments and charges'),
  ('payments:write', 'send payments and returns'),
  ('settlement:read', 'read settlement windows, positions and reports'),
  ('admin', 'manage users, clients and tiers');

create table users (
  id             uuid        primary key default gen_random_uuid(),
  username       text        not null unique check (username ~ '^[a-z0-9._@-]{3,64}$'),
  password_hash  text        not null check (password_hash like '$argon2id$%'),
  scopes         text[]      not null default '{}',
  tier           text        not null default 'standard' references rate_limit_tiers (name),
  -- accounts whose WebSocket channel this user may follow: 'ISPB:branch:number'
  accounts       text[]      not null default '{}',
  status         text        not null default 'ACTIVE' check (status in ('ACTIVE', 'DISABLED')),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

create table api_clients (
  client_id      text        primary key check (client_id ~ '^[a-z0-9._-]{3,64}$'),
  name           text        not null check (length(name) between 1 and 140),
  secret_hash    text        not null check (secret_hash like '$argon2id$%'),
  scopes         text[]      not null default '{}',
  tier           text        not null default 'standard' references rate_limit_tiers (name),
  status         text        not null default 'ACTIVE' check (status in ('ACTIVE', 'DISABLED')),
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);

-- Every scope a principal holds must be a known scope (arrays cannot carry foreign keys).
create function gateway_scopes_known() returns trigger language plpgsql as $$
begin
  if exists (select 1 from unnest(new.scopes) s where s not in (select name from api_scopes)) then
    raise exception 'unknown scope in %', new.scopes using errcode = 'check_violation';
  end if;
  return new;
end $$;

create trigger users_scopes_known before insert or update of scopes on users
  for each row execute function gateway_scopes_known();
create trigger api_clients_scopes_known before insert or update of scopes on api_clients
  for each row execute function gateway_scopes_known();

-- Settlement windows (services/settlement/windows/window.ts holds the transition table; the database
-- keeps the shape). One row per UTC hour that saw traffic; net positions go to `settlements`.
create table settlement_windows (
  id          text        primary key check (id ~ '^W[0-9]{10}$'),
  starts_at   timestamptz not null,
  ends_at     timestamptz not null check (ends_at > starts_at),
  state       text        not null check (state in ('OPEN', 'CLOSING', 'CLOSED', 'SETTLED', 'RECONCILIATION_FAILED')),
  -- [{state, at}] in order: when each state was entered
  history     jsonb       not null,
  payments    integer     not null default 0 check (payments >= 0),
  gross_centavos bigint   not null default 0 check (gross_centavos >= 0),
  updated_at  timestamptz not null default now()
);

create index settlement_windows_open_idx on settlement_windows (ends_at) where state in ('OPEN', 'CLOSING');

-- STR transfers between our reserve account and our PI account (manual or the liquidity top-up),
-- recorded before BACEN is called (PENDING) so reconciliation knows about every one we asked for.
create table str_transfers (
  id              text        primary key check (id ~ '^[A-Za-z0-9-]{1,35}$'),
  direction       text        not null check (direction in ('TO_PI', 'TO_RESERVE')),
  amount_centavos bigint      not null check (amount_centavos > 0),
  status          text        not null check (status in ('PENDING', 'APPLIED', 'FAILED')),
  origin          text        not null check (origin in ('AUTO_TOPUP', 'MANUAL')),
  reason          text,
  requested_at    timestamptz not null,
  applied_at      timestamptz,
  constraint str_transfers_applied_has_time check ((status = 'APPLIED') = (applied_at is not null))
);

-- Reconciliation runs against BACEN's camt.053: the summary per mismatch kind and every mismatch.
create table recon_runs (
  id              bigint      generated always as identity primary key,
  statement_from  timestamptz not null,
  statement_to    timestamptz not null,
  ran_at          timestamptz not null,
  matched         integer     not null check (matched >= 0),
  unexplained     integer     not null check (unexplained >= 0),
  summary         jsonb       not null,
  mismatches      jsonb       not null
);

create index recon_runs_from_idx on recon_runs (statement_from, ran_at desc);
