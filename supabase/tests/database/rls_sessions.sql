-- Row-level security and grants on public.sessions (sql/rls/), for every actor: what each one
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
select plan(10);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.sessions$$, '42501', 'permission denied for table sessions',
  'anon: sessions: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: sessions: only her own');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '2030-01-08 10:00+00', '2030-01-08 11:00+00', '2030-01-08 11:15+00')$$,
  '42501', 'permission denied for table sessions', 'student A: sessions: cannot book around the RPC');
select throws_ok(
  $$update public.sessions set status = 'canceled', canceled_at = now() where id = '55555555-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table sessions', 'student A: sessions: cannot cancel around the RPC');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: sessions: only his own');
select is_empty(
  $$select from public.sessions where student_id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  'student B: sessions: none of student A''s, even when asked by id');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: sessions: her own');
select throws_ok(
  $$update public.sessions set status = 'completed', completed_at = now()
     where id = '55555555-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table sessions', 'mentor M1: sessions: cannot complete around the RPC');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: sessions: his own');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_sessions from public.sessions
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.sessions), :all_sessions::bigint, 'admin: sessions: every row');
select tests.clear_authentication();

select * from finish();
rollback;
