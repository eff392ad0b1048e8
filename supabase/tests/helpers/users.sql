-- pgTAP helpers in the style of supabase-test-helpers (usebasejump/supabase-test-helpers):
-- users by label, acting as one of them, and the frozen business clock. Test databases only
-- (mentorships.db.prepare_test_database); everything they do is transaction-local, so it rolls
-- back with the pgTAP file's transaction.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- The user a label names: <label>@tap.test in auth.users, with a profile (the sign-up trigger
-- makes one) whose role is set here. The id is derived from the label (md5, stable across runs)
-- unless one is given, so files that pin ids keep them. Calling it again with the same label in
-- the same transaction returns the same id.
create or replace function tests.create_user(
  label text,
  role text default 'student',
  time_zone text default 'UTC',
  id uuid default null,
  display_name text default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  user_id uuid := coalesce(id, pg_catalog.md5('tests.user:' || label)::uuid);
  existing uuid;
begin
  select u.id into existing from auth.users u where u.email = label || '@tap.test';
  if existing is not null then
    return existing;
  end if;
  insert into auth.users (id, email, raw_user_meta_data)
  values (user_id, label || '@tap.test',
          pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'display_name', display_name, 'time_zone', time_zone)));
  update public.profiles p set role = create_user.role::public.user_role where p.id = user_id;
  return user_id;
end
$$;

-- The id of a user made by tests.create_user; fails when there is none.
create or replace function tests.get_user(label text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  user_id uuid;
begin
  select u.id into user_id from auth.users u where u.email = label || '@tap.test';
  if user_id is null then
    raise exception 'tests.get_user: no user labelled %', label;
  end if;
  return user_id;
end
$$;

-- Act as that user, as PostgREST would with their JWT: role authenticated and the claims it
-- sets (sub, role, aud, email), until the transaction ends or the next switch.
create or replace function tests.authenticate_as(label text)
returns void
language plpgsql
as $$
declare
  user_id uuid := tests.get_user(label);
begin
  perform pg_catalog.set_config('role', 'authenticated', true);
  perform pg_catalog.set_config('request.jwt.claims', pg_catalog.json_build_object(
    'sub', user_id, 'role', 'authenticated', 'aud', 'authenticated',
    'email', label || '@tap.test')::text, true);
end
$$;

-- Act as a visitor without an account (PostgREST's anon role with an anon token).
create or replace function tests.authenticate_as_anon()
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'anon', true);
  perform pg_catalog.set_config('request.jwt.claims', '{"role":"anon"}', true);
end
$$;

-- Act as the service role (the workers' key).
create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'service_role', true);
  perform pg_catalog.set_config('request.jwt.claims', '{"role":"service_role"}', true);
end
$$;

-- Back to the session's own role (the superuser that runs the file) with no claims.
create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform pg_catalog.set_config('role', 'none', true);
  perform pg_catalog.set_config('request.jwt.claims', '', true);
end
$$;

-- Freeze the business clock (private.clock_now()) at ts for the rest of the transaction: the
-- transaction-local mentorships.now, which wins over private.clock and rolls back with the file.
create or replace function tests.freeze_clock(ts timestamptz)
returns timestamptz
language plpgsql
as $$
begin
  perform pg_catalog.set_config('mentorships.now',
    pg_catalog.to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), true);
  return ts;
end
$$;

revoke execute on function tests.create_user(text, text, text, uuid, text) from public;
grant execute on function tests.get_user(text), tests.authenticate_as(text),
  tests.authenticate_as_anon(), tests.authenticate_as_service_role(),
  tests.clear_authentication(), tests.freeze_clock(timestamptz)
  to anon, authenticated, service_role;
