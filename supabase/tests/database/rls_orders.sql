-- Row-level security and grants on public.orders (sql/rls/), for every actor: what each one
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
select throws_ok($$select * from public.orders$$, '42501', 'permission denied for table orders',
  'anon: orders: no access');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq($$select id from public.orders$$,
  $$values ('ffffffff-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: orders: only her own');
select throws_ok(
  $$update public.orders set amount_cents = 0 where id = 'ffffffff-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table orders', 'student A: orders: update refused');
select tests.clear_authentication();

-- === student B (M2's student) ===
select tests.authenticate_as('rls_b');
select results_eq($$select id from public.orders$$,
  $$values ('ffffffff-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: orders: only his own');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select is_empty($$select * from public.orders$$, 'mentor M1: orders: none (money is the buyer''s and the admins'')');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select is_empty($$select * from public.orders$$, 'mentor M2: orders: none');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_orders from public.orders
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.orders), :all_orders::bigint, 'admin: orders: every row');
select throws_ok(
  $$update public.orders set status = 'refunded' where id = 'ffffffff-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table orders', 'admin: orders: update refused (refunds come from the webhook)');
select tests.clear_authentication();

select * from finish();
rollback;
