-- Row-level security and grants on public.profiles (sql/rls/), for every actor: what each one
-- reads and which writes are refused. tests.create_rls_world() (supabase/tests/helpers/) builds
-- the world as the superuser; each actor then runs as the API role PostgREST would use, with the
-- claims it would set (tests.authenticate_as).
--
-- Ids used below:
--   admin      aaaaaaaa-0000-0000-0000-000000000001
--   mentors    M1 bbbbbbbb-0000-0000-0000-000000000001  M2 bbbbbbbb-0000-0000-0000-000000000002
--              M3 bbbbbbbb-0000-0000-0000-000000000003 (deactivated by an admin)
--   students   A  cccccccc-0000-0000-0000-00000000000a  (M1's student)
--              B  cccccccc-0000-0000-0000-00000000000b  (M2's student)
--   products   dddddddd-0000-0000-0000-0000000000<mentor><n>: 11 (M1), 12 (M1, inactive), 21 (M2),
--              31 (M3); M1 and the admin add one each below (ids from the default, found by title)
--   per student and mentor (a1 = A with M1, b2 = B with M2):
--              seats eeeeeeee-...-0000000000a1, orders ffffffff-..., payments 77777777-...,
--              packs 99999999-..., sessions 55555555-...
--   promotion codes 66666666-0000-0000-0000-000000000001 (platform-wide), ...-000000000002 (M1's)
begin;
set search_path = public, extensions;
select plan(19);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.profiles$$, '42501', 'permission denied for table profiles',
  'anon: profiles: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select id from public.profiles order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid)$$,
  'student A: profiles: only her own');
with u as (
  update public.profiles set display_name = 'Ana A.' where id = 'cccccccc-0000-0000-0000-00000000000a' returning id
) select is(count(*)::integer, 1, 'student A: profiles: updates her own display name') from u;
select throws_ok(
  $$update public.profiles set role = 'admin' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles', 'student A: profiles: cannot make herself admin (column grant)');
select throws_ok(
  $$update public.profiles set email = 'other@example.test' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles', 'student A: profiles: cannot change her email there');
select throws_ok(
  $$update public.profiles set discord_user_id = '80351110224678912' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles',
  'student A: profiles: cannot set her Discord id (only the OAuth flow does, through link_discord)');
select is(tests.refusal(
  $$update public.profiles set time_zone = 'Mars/Olympus' where id = 'cccccccc-0000-0000-0000-00000000000a'$$),
  'PT422: time_zone: "Mars/Olympus" is not an IANA time zone name such as "Europe/Berlin"',
  'student A: profiles: an invalid time zone is refused');
with u as (
  update public.profiles set display_name = 'pwned' where id = 'cccccccc-0000-0000-0000-00000000000b' returning id
) select is(count(*)::integer, 0, 'student A: profiles: updating student B''s profile changes no row') from u;
select throws_ok(
  $$delete from public.profiles where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles', 'student A: profiles: delete refused');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select id, display_name from public.profiles order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000b'::uuid, 'Student B')$$,
  'student B: profiles: only his own, its name untouched by student A');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('cccccccc-0000-0000-0000-00000000000a')$$,
  'mentor M1: profiles: her own and her student A''s');
with u as (
  update public.profiles set display_name = 'renamed' where id = 'cccccccc-0000-0000-0000-00000000000a' returning id
) select is(count(*)::integer, 0, 'mentor M1: profiles: reads but cannot rename her student') from u;
select throws_ok(
  $$update public.profiles set role = 'admin' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table profiles', 'mentor M1: profiles: cannot make herself admin');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000002'::uuid), ('cccccccc-0000-0000-0000-00000000000b')$$,
  'mentor M2: profiles: his own and his student B''s');
select tests.clear_authentication();

-- === mentor M3 (deactivated by an admin) ===
select tests.authenticate_as('rls_m3');
select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000003'::uuid)$$, 'mentor M3: profiles: his own (he has no students)');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_profiles from public.profiles
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.profiles), :all_profiles::bigint, 'admin: profiles: every row');
select throws_ok(
  $$update public.profiles set role = 'mentor' where id = 'cccccccc-0000-0000-0000-00000000000b'$$,
  '42501', 'permission denied for table profiles',
  'admin: profiles: role changes go through an RPC, not a direct update (column grant)');
select throws_ok(
  $$update public.profiles set discord_user_id = null where id = 'cccccccc-0000-0000-0000-00000000000b'$$,
  '42501', 'permission denied for table profiles',
  'admin: profiles: nor does an admin write a Discord id (column grant)');
select tests.clear_authentication();

-- === superuser: what landed afterwards ===
select results_eq(
  $$select id, display_name, role::text from public.profiles
     where id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b') order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid, 'Ana A.', 'student'),
           ('cccccccc-0000-0000-0000-00000000000b', 'Student B', 'student')$$,
  'afterwards: only student A''s own rename landed on the students'' profiles');

select * from finish();
rollback;
