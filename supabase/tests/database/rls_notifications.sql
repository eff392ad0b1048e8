-- Row-level security and grants on public.notifications (sql/rls/), for every actor: what each one
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
select plan(8);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.notifications$$, '42501', 'permission denied for table notifications',
  'anon: notifications: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:a1:student')$$, 'student A: notifications: only her own');
select throws_ok(
  $$update public.notifications set status = 'voided', voided_at = now()$$,
  '42501', 'permission denied for table notifications', 'student A: notifications: update refused');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:b2:student')$$, 'student B: notifications: only his own');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:a1:mentor')$$, 'mentor M1: notifications: only her own, not her student''s');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select is_empty($$select * from public.notifications$$, 'mentor M2: notifications: none (none addressed to him)');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_notifications from public.notifications
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.notifications), :all_notifications::bigint, 'admin: notifications: every row');
select results_eq(
  $$select dedupe_key from public.notifications where dedupe_key like 'tap-rls:%' order by dedupe_key$$,
  $$values ('tap-rls:booked:a1:mentor'), ('tap-rls:booked:a1:student'), ('tap-rls:booked:b2:student')$$,
  'admin: notifications: everyone''s');
select tests.clear_authentication();

select * from finish();
rollback;
