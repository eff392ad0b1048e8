-- Row-level security and grants on public.platform_settings (sql/rls/), for every actor: what each one
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
select plan(5);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select is((select count(*)::integer from public.platform_settings), 1, 'anon: platform_settings: reads the settings');
select throws_ok(
  $$update public.platform_settings set seat_hold_minutes = 5$$,
  '42501', 'permission denied for table platform_settings', 'anon: platform_settings: update refused');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
with u as (
  update public.platform_settings set cancel_notice_hours = 0 returning 1
) select is(count(*)::integer, 0, 'student A: platform_settings: update changes no row') from u;
select tests.clear_authentication();

-- === admin ===
select tests.authenticate_as('rls_admin');
with u as (
  update public.platform_settings set cancel_notice_hours = 48 returning 1
) select is(count(*)::integer, 1, 'admin: platform_settings: updates the settings') from u;
select is(tests.refusal(
  $$update public.platform_settings set grace_warning_hours = 100, grace_period_hours = 72$$),
  'PT422: grace_warning_hours (100) must not exceed grace_period_hours (72)',
  'admin: platform_settings: a grace warning longer than the grace period is refused');
select tests.clear_authentication();

select * from finish();
rollback;
