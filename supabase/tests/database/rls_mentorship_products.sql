-- Row-level security and grants on public.mentorship_products (sql/rls/), for every actor: what each one
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
select plan(17);

select tests.create_rls_world();

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000021')$$,
  'anon: mentorship_products: active products of active mentors only');
select is_empty(
  $$select from public.mentorship_products p
     where not p.is_active or p.mentor_id not in (select m.id from public.mentors m where m.is_active)$$,
  'anon: mentorship_products: no inactive product and none of an inactive mentor');
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'Free stuff', 0)$$,
  '42501', 'permission denied for table mentorship_products', 'anon: mentorship_products: insert refused');
select tests.clear_authentication();

-- === student A (M1's student) ===
select tests.authenticate_as('rls_a');
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000021')$$,
  'student A: mentorship_products: active products of active mentors only');
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'Cheap pack', 1)$$,
  '42501', 'new row violates row-level security policy for table "mentorship_products"',
  'student A: mentorship_products: cannot add a product for her mentor');
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('cccccccc-0000-0000-0000-00000000000a', 'My own pack', 1)$$,
  '23503', 'insert or update on table "mentorship_products" violates foreign key constraint "mentorship_products_mentor_id_fkey"',
  'student A: mentorship_products: cannot sell as herself (she is no mentor)');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000012'),
           ('dddddddd-0000-0000-0000-000000000021')$$,
  'mentor M1: mentorship_products: the catalog plus her own inactive product');
select lives_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'M1 eight sessions', 19000)$$,
  'mentor M1: mentorship_products: adds a product of her own');
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'M2 at a loss', 1)$$,
  '42501', 'new row violates row-level security policy for table "mentorship_products"',
  'mentor M1: mentorship_products: cannot add a product for mentor M2');
select throws_ok(
  $$insert into public.mentorship_products (id, mentor_id, title, price_cents)
    values ('dddddddd-0000-0000-0000-000000000014', 'bbbbbbbb-0000-0000-0000-000000000001', 'Chosen id', 1)$$,
  '42501', 'permission denied for table mentorship_products',
  'mentor M1: mentorship_products: cannot choose the id (outside the insert grant)');
with u as (
  update public.mentorship_products set price_cents = 11000
   where id = 'dddddddd-0000-0000-0000-000000000011' returning id
) select is(count(*)::integer, 1, 'mentor M1: mentorship_products: updates the price of her own product') from u;
with u as (
  update public.mentorship_products set price_cents = 1
   where id = 'dddddddd-0000-0000-0000-000000000021' returning id
) select is(count(*)::integer, 0, 'mentor M1: mentorship_products: updating mentor M2''s product changes no row') from u;
select throws_ok(
  $$update public.mentorship_products set mentor_id = 'bbbbbbbb-0000-0000-0000-000000000002'
     where id = 'dddddddd-0000-0000-0000-000000000011'$$,
  '42501', 'permission denied for table mentorship_products',
  'mentor M1: mentorship_products: cannot hand a product to another mentor (column grant)');
select tests.clear_authentication();

-- === mentor M2 (student B's mentor) ===
select tests.authenticate_as('rls_m2');
select results_eq(
  $$select title, price_cents from public.mentorship_products
     where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by title$$,
  $$values ('M1 eight sessions', 19000), ('M1 four sessions', 11000), ('M2 four sessions', 12000)$$,
  'mentor M2: mentorship_products: the catalog (M1''s new product and price included, his price untouched)');
select tests.clear_authentication();

-- === mentor M3 (deactivated by an admin) ===
select tests.authenticate_as('rls_m3');
select results_eq(
  $$select title from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by title$$,
  $$values ('M1 eight sessions'), ('M1 four sessions'), ('M2 four sessions'), ('M3 four sessions')$$,
  'mentor M3: mentorship_products: the catalog and his own product');
select tests.clear_authentication();

-- === admin ===
-- what the superuser sees, to compare the admin's reads with
select count(*) as all_products from public.mentorship_products
\gset
select tests.authenticate_as('rls_admin');
select is((select count(*) from public.mentorship_products), :all_products::bigint, 'admin: mentorship_products: every row');
select lives_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'M2 intro session', 3000)$$,
  'admin: mentorship_products: adds a product for a mentor');
select tests.clear_authentication();

select * from finish();
rollback;
