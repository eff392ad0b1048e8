-- Extensions and the schemas the data model lives in.
create extension if not exists pg_cron;
create extension if not exists btree_gist with schema extensions;

-- private: security-definer helpers, trigger functions, webhook inbox, sync state. Never in
-- PostgREST's db-schemas. The API roles get usage only so that the few helpers granted to them
-- (policies and computed fields call them) resolve; every private function is revoked from public.
create schema if not exists private;
comment on schema private is 'Helpers, trigger functions, webhook inbox and sync state; never exposed over the API.';
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;
-- Functions are not executable by PUBLIC unless granted. (A per-schema `revoke` in default
-- privileges cannot take away the global PUBLIC grant, so this is the global default of the
-- role that runs migrations; each function then grants exactly who may call it.)
alter default privileges revoke execute on functions from public;

-- analytics: dbt output for the admin and analyst reports.
create schema if not exists analytics;
comment on schema analytics is 'dbt models (marts) for admin and analyst reports.';
revoke all on schema analytics from public;

-- Validators used by check constraints: immutable, no table access.
create or replace function private.is_valid_time_zone(time_zone text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- IANA names only (Area/Location or UTC): Postgres alone would also take POSIX strings such
  -- as 'UTC+5' (an offset of the opposite sign) and any letter case, which other clients reject.
  if time_zone is null or length(time_zone) > 64
     or time_zone !~ '^(UTC|[A-Z][A-Za-z]+(/[A-Z][A-Za-z0-9_+-]*){1,2})$' then
    return false;
  end if;
  perform pg_catalog.now() at time zone time_zone;
  return true;
exception when invalid_parameter_value then
  return false;
end
$$;
comment on function private.is_valid_time_zone(text) is
  'True when the text is an IANA time zone name Postgres knows (e.g. Europe/Berlin).';
-- Check constraints run with the writer's privileges, so writers may execute the validators.
revoke execute on function private.is_valid_time_zone(text) from public;
grant execute on function private.is_valid_time_zone(text) to authenticated, service_role;

-- Working hours: a JSON array of {"weekday": 1..7 (ISO, 1 = Monday), "start": "HH:MM",
-- "end": "HH:MM" or "24:00"} in the mentor's own time zone; windows of one day must not overlap.
create or replace function private.is_valid_working_hours(working_hours jsonb)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  w jsonb;
  prev_day integer := 0;
  prev_end time := null;
begin
  if working_hours is null or pg_catalog.jsonb_typeof(working_hours) <> 'array'
     or pg_catalog.jsonb_array_length(working_hours) > 50 then
    return false;
  end if;
  for w in
    select value from pg_catalog.jsonb_array_elements(working_hours)
    order by (value ->> 'weekday'), (value ->> 'start')
  loop
    if pg_catalog.jsonb_typeof(w) <> 'object'
       or (select count(*) from pg_catalog.jsonb_object_keys(w)) <> 3
       or not (w ? 'weekday' and w ? 'start' and w ? 'end')
       or pg_catalog.jsonb_typeof(w -> 'weekday') <> 'number'
       or (w ->> 'weekday') !~ '^[1-7]$'
       or (w ->> 'start') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
       or (w ->> 'end') !~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
       or (w ->> 'start')::time >= (w ->> 'end')::time then
      return false;
    end if;
    if (w ->> 'weekday')::integer = prev_day and (w ->> 'start')::time < prev_end then
      return false;
    end if;
    prev_day := (w ->> 'weekday')::integer;
    prev_end := (w ->> 'end')::time;
  end loop;
  return true;
end
$$;
comment on function private.is_valid_working_hours(jsonb) is
  'True when the value is a list of non-overlapping weekly windows [{"weekday":1..7,"start":"HH:MM","end":"HH:MM"}].';
revoke execute on function private.is_valid_working_hours(jsonb) from public;
grant execute on function private.is_valid_working_hours(jsonb) to authenticated, service_role;
