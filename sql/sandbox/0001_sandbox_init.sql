-- The BACEN sandbox keeps its own state (DICT entries, claims, SPI accounts ...) in its own schema,
-- `<DB_SCHEMA>_bacen`, so a restart keeps it and it never mixes with the platform's tables.
-- Feature migrations follow as 0002_sandbox_<feature>.sql.
create table sandbox_meta (
  name  text primary key,
  value text not null
);
