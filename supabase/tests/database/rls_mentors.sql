-- Row-level security and grants on public.mentors (sql/rls/), for every actor: what each one
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
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'anon: mentors: reads the active mentors M1 and M2, not the deactivated M3');
select is_empty($$select from public.mentors where not is_active$$,
  'anon: mentors: no inactive mentor at all');
select is((select public.free_seats(m) from public.mentors m where m.id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  4, 'anon: the free_seats computed field works (M1: capacity 5, one active seat)');
select throws_ok(
  $$update public.mentors set headline = 'hacked' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table mentors', 'anon: mentors: update refused');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'student A: mentors: the active mentors');
with u as (
  update public.mentors set headline = 'hacked' where id = 'bbbbbbbb-0000-0000-0000-000000000001' returning id
) select is(count(*)::integer, 0, 'student A: mentors: updating her mentor''s row changes no row') from u;
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'mentor M1: mentors: the active mentors (M3 is hidden)');
with u as (
  update public.mentors
     set working_hours = '[{"weekday":1,"start":"09:00","end":"13:00"},{"weekday":3,"start":"14:00","end":"24:00"}]'
   where id = 'bbbbbbbb-0000-0000-0000-000000000001' returning id
) select is(count(*)::integer, 1, 'mentor M1: mentors: updates her own working hours') from u;
select is(tests.refusal(
  $$update public.mentors
       set working_hours = '[{"weekday":1,"start":"09:00","end":"13:00"},{"weekday":1,"start":"12:00","end":"14:00"}]'
     where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$),
  'PT422: working_hours must be a list of {"weekday", "start", "end"} windows',
  'mentor M1: mentors: overlapping working hours are refused');
select is(tests.refusal(
  $$update public.mentors set time_zone = 'Europe/Atlantis' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$),
  'PT422: time_zone: "Europe/Atlantis" is not an IANA time zone name such as "Europe/Berlin"',
  'mentor M1: mentors: an invalid time zone is refused');
select throws_ok(
  $$update public.mentors set is_active = true where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table mentors', 'mentor M1: mentors: cannot change is_active (column grant)');
select throws_ok(
  $$update public.mentors set seat_capacity = 500 where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table mentors', 'mentor M1: mentors: cannot change seat_capacity (column grant)');
with u as (
  update public.mentors set headline = 'hacked' where id = 'bbbbbbbb-0000-0000-0000-000000000002' returning id
) select is(count(*)::integer, 0, 'mentor M1: mentors: updating mentor M2''s row changes no row') from u;
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq(
  $$select id, headline from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid, ''), ('bbbbbbbb-0000-0000-0000-000000000002', '')$$,
  'mentor M2: mentors: the active mentors, his headline untouched by M1');
select tests.clear_authentication();

-- === mentor M3 (deactivated by an admin) ===
select tests.authenticate_as('rls_m3');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002'),
           ('bbbbbbbb-0000-0000-0000-000000000003')$$,
  'mentor M3: mentors: the active mentors and his own hidden row');
select throws_ok(
  $$update public.mentors set is_active = true where id = 'bbbbbbbb-0000-0000-0000-000000000003'$$,
  '42501', 'permission denied for table mentors', 'mentor M3: mentors: cannot reactivate himself');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_mentors from public.mentors
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.mentors), :all_mentors::bigint, 'admin: mentors: every row, inactive ones too');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002'),
           ('bbbbbbbb-0000-0000-0000-000000000003')$$,
  'admin: mentors: this file''s three mentors, M3 included');
select throws_ok(
  $$update public.mentors set is_active = true where id = 'bbbbbbbb-0000-0000-0000-000000000003'$$,
  '42501', 'permission denied for table mentors',
  'admin: mentors: reactivation goes through an RPC, not a direct update (column grant)');
select tests.clear_authentication();

select * from finish();
rollback;
