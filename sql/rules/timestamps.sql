-- Rows are stamped with the business clock (private.clock_now(): now() in production, the frozen
-- instant in tests and in a demo history played through the real RPCs), never with now() itself:
-- a row written at a frozen clock records the instant the rules saw.

-- The stamp column defaults call. Whoever inserts evaluates a default, PostgREST's
-- `authenticated` role too (a mentor adding a product), and that role may neither use schema
-- private nor read the clock: a definer, granted to the roles that write rows. A default stores
-- the function by OID, so only EXECUTE is checked, not USAGE on private (the pgTAP file
-- timestamps.sql shows it). Explicit values still win, as they did over now().
create or replace function private.stamp_now()
returns timestamptz
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.clock_now();
end
$$;
comment on function private.stamp_now() is
  'The business clock (private.clock_now()) for column defaults and the updated_at trigger: executable by every role that writes rows.';
revoke execute on function private.stamp_now() from public, anon;
grant execute on function private.stamp_now() to authenticated, service_role;

-- Columns that say when a row was written or changed, or that are due "from now": created_at and
-- updated_at of every table, and these. Only a default that is not the stamp yet is altered, so a
-- re-run takes no lock.
do $$
declare
  col record;
begin
  for col in
    select c.oid::regclass as tbl, a.attname
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname in ('public', 'private') and c.relkind = 'r'
      and (a.attname in ('created_at', 'updated_at')
           or (n.nspname, c.relname, a.attname) in (
             ('public', 'notifications', 'send_after'),          -- due at once unless given
             ('public', 'promotion_codes', 'valid_from'),        -- valid from its creation
             ('private', 'webhook_events', 'received_at'),
             ('private', 'calendar_jobs', 'requested_at'),
             ('private', 'google_credentials', 'connected_at'),
             ('private', 'calendar_busy_intervals', 'synced_at'),
             ('private', 'calendar_sync_state', 'next_sync_at')  -- due at once
           ))
      and pg_catalog.pg_get_expr(d.adbin, d.adrelid) is distinct from 'private.stamp_now()'
  loop
    execute format('alter table %s alter column %I set default private.stamp_now()', col.tbl, col.attname);
  end loop;
end
$$;

-- updated_at on every table that has one. A definer for the same reason as stamp_now: the API
-- roles update rows directly (products, profiles, mentors).
create or replace function private.tg__set_updated_at()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.updated_at := private.clock_now();
  return new;
end
$$;
comment on function private.tg__set_updated_at() is 'Sets updated_at to the business clock (private.clock_now()).';
revoke execute on function private.tg__set_updated_at() from public, anon, authenticated;

do $$
declare
  t regclass;
begin
  for t in
    select c.oid::regclass
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
    where n.nspname in ('public', 'private') and c.relkind = 'r'
  loop
    execute format('drop trigger if exists _900_set_updated_at on %s', t);
    execute format(
      'create trigger _900_set_updated_at before update on %s '
      'for each row execute function private.tg__set_updated_at()', t);
  end loop;
end
$$;
