-- Row-level security and grants on public.promotion_codes (sql/rls/), for every actor: what each one
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
select plan(11);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.promotion_codes$$, '42501', 'permission denied for table promotion_codes',
  'anon: promotion_codes: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select is_empty($$select * from public.promotion_codes$$, 'student A: promotion_codes: nothing');
select throws_ok(
  $$insert into public.promotion_codes (code, percent_off) values ('TAP-RLS-FREE', 100)$$,
  '42501', 'new row violates row-level security policy for table "promotion_codes"',
  'student A: promotion_codes: cannot create a code');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select is_empty($$select * from public.promotion_codes$$, 'student B: promotion_codes: nothing');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select code from public.promotion_codes$$,
  $$values ('TAP-RLS-M1')$$, 'mentor M1: promotion_codes: only the code scoped to her');
select throws_ok(
  $$insert into public.promotion_codes (code, percent_off, mentor_id)
    values ('TAP-RLS-M1-HALF', 50, 'bbbbbbbb-0000-0000-0000-000000000001')$$,
  '42501', 'new row violates row-level security policy for table "promotion_codes"',
  'mentor M1: promotion_codes: cannot create a code, not even for herself');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select is_empty($$select * from public.promotion_codes$$, 'mentor M2: promotion_codes: none (M1''s code is not his)');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_codes from public.promotion_codes
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.promotion_codes), :all_codes::bigint, 'admin: promotion_codes: every row');
select lives_ok(
  $$insert into public.promotion_codes (code, percent_off, valid_until) values ('TAP-RLS-SPRING', 15, '2030-04-01')$$,
  'admin: promotion_codes: creates a code');
select is((select created_by from public.promotion_codes where code = 'TAP-RLS-SPRING'),
  'aaaaaaaa-0000-0000-0000-000000000001'::uuid, 'admin: promotion_codes: the code records who created it');
with u as (
  update public.promotion_codes set is_active = false where code = 'TAP-RLS-M1' returning id
) select is(count(*)::integer, 1, 'admin: promotion_codes: deactivates a code') from u;
select tests.clear_authentication();

select * from finish();
rollback;
