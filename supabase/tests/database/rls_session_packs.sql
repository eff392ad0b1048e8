-- Row-level security and grants on public.session_packs (sql/rls/), for every actor: what each one
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
select plan(9);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.session_packs$$, '42501', 'permission denied for table session_packs',
  'anon: session_packs: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: session_packs: only her own');
select throws_ok(
  $$insert into public.session_packs (student_id, mentor_id, product_id, seat_reservation_id,
      sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
      cancel_notice_hours, purchased_at, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 52, 52, 0, 'usd',
      72, 24, '2030-01-06 00:00+00', '2031-01-06 00:00+00')$$,
  '42501', 'permission denied for table session_packs', 'student A: session_packs: cannot grant herself a pack');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: session_packs: only his own');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: session_packs: her student''s');
select throws_ok(
  $$update public.session_packs set status = 'expired', expired_at = now()
     where id = '99999999-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table session_packs', 'mentor M1: session_packs: update refused');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: session_packs: his student''s');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_packs from public.session_packs
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.session_packs), :all_packs::bigint, 'admin: session_packs: every row');
select tests.clear_authentication();

-- === superuser: what landed afterwards ===
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  3, 'afterwards: pack A''s credits are what the ledger says');

select * from finish();
rollback;
