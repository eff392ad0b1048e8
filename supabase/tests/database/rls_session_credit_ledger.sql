-- Row-level security and grants on public.session_credit_ledger (sql/rls/), for every actor: what each one
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
select throws_ok($$select * from public.session_credit_ledger$$, '42501', 'permission denied for table session_credit_ledger',
  'anon: session_credit_ledger: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select pack_id, delta from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid, -1)$$, 'student A: session_credit_ledger: only her own');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 10, 'free', 'cccccccc-0000-0000-0000-00000000000a')$$,
  '42501', 'permission denied for table session_credit_ledger', 'student A: session_credit_ledger: cannot credit herself');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: session_credit_ledger: only his own');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: session_credit_ledger: her student''s');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: session_credit_ledger: his student''s');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_ledger from public.session_credit_ledger
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.session_credit_ledger), :all_ledger::bigint, 'admin: session_credit_ledger: every row');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, 'goodwill', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '42501', 'permission denied for table session_credit_ledger',
  'admin: session_credit_ledger: adjustments go through an RPC, not a direct insert');
select tests.clear_authentication();

select * from finish();
rollback;
