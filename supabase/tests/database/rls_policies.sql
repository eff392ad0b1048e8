-- Row-level security and grants, table by table, for every actor: what each one reads and which
-- writes are refused (sql/rls/*.sql). The world is built by the superuser; each actor then runs
-- as the API role PostgREST would use (anon or authenticated) with the JWT claims it would set.
-- Catalog reads are checked against this file's own rows (other rows may exist in the database);
-- the admin's reads are compared with what the superuser sees.
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
select plan(134);

-- === setup (superuser): the world ===
update private.clock set frozen_at = null;
select tests.freeze_clock('2030-01-06 12:00+00');
select tests.create_user('rls_admin', 'admin', id => 'aaaaaaaa-0000-0000-0000-000000000001', display_name => 'Admin');
select tests.create_user('rls_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001', display_name => 'Mentor One');
select tests.create_user('rls_m2', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000002', display_name => 'Mentor Two');
select tests.create_user('rls_m3', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000003', display_name => 'Mentor Three');
select tests.create_user('rls_a', id => 'cccccccc-0000-0000-0000-00000000000a', display_name => 'Student A');
select tests.create_user('rls_b', id => 'cccccccc-0000-0000-0000-00000000000b', display_name => 'Student B');
insert into public.mentors (id, slug, public_name, time_zone, seat_capacity, is_active) values
  ('bbbbbbbb-0000-0000-0000-000000000001', 'tap-rls-m1', 'Mentor One', 'Europe/Berlin', 5, true),
  ('bbbbbbbb-0000-0000-0000-000000000002', 'tap-rls-m2', 'Mentor Two', 'America/New_York', 3, true),
  ('bbbbbbbb-0000-0000-0000-000000000003', 'tap-rls-m3', 'Mentor Three', 'Asia/Tokyo', 3, false);
insert into public.mentorship_products (id, mentor_id, title, price_cents, is_active) values
  ('dddddddd-0000-0000-0000-000000000011', 'bbbbbbbb-0000-0000-0000-000000000001', 'M1 four sessions', 10000, true),
  ('dddddddd-0000-0000-0000-000000000012', 'bbbbbbbb-0000-0000-0000-000000000001', 'M1 retired pack', 9000, false),
  ('dddddddd-0000-0000-0000-000000000021', 'bbbbbbbb-0000-0000-0000-000000000002', 'M2 four sessions', 12000, true),
  ('dddddddd-0000-0000-0000-000000000031', 'bbbbbbbb-0000-0000-0000-000000000003', 'M3 four sessions', 8000, true);
insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at) values
  ('eeeeeeee-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
   'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00'),
  ('eeeeeeee-0000-0000-0000-0000000000b2', 'bbbbbbbb-0000-0000-0000-000000000002',
   'cccccccc-0000-0000-0000-00000000000b', 'active', '2030-01-01 00:00+00');
insert into public.orders (id, student_id, mentor_id, product_id, seat_reservation_id, provider, status,
    list_price_cents, amount_cents, currency, expires_at, paid_at) values
  ('ffffffff-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-00000000000a',
   'bbbbbbbb-0000-0000-0000-000000000001', 'dddddddd-0000-0000-0000-000000000011',
   'eeeeeeee-0000-0000-0000-0000000000a1', 'stripe', 'paid', 10000, 10000, 'usd',
   '2030-01-01 00:30+00', '2030-01-01 00:05+00'),
  ('ffffffff-0000-0000-0000-0000000000b2', 'cccccccc-0000-0000-0000-00000000000b',
   'bbbbbbbb-0000-0000-0000-000000000002', 'dddddddd-0000-0000-0000-000000000021',
   'eeeeeeee-0000-0000-0000-0000000000b2', 'paypal', 'paid', 12000, 12000, 'usd',
   '2030-01-01 00:30+00', '2030-01-01 00:05+00');
insert into public.payments (id, order_id, student_id, provider, provider_payment_id, amount_cents, currency, paid_at) values
  ('77777777-0000-0000-0000-0000000000a1', 'ffffffff-0000-0000-0000-0000000000a1',
   'cccccccc-0000-0000-0000-00000000000a', 'stripe', 'pi_tap_rls_a1', 10000, 'usd', '2030-01-01 00:05+00'),
  ('77777777-0000-0000-0000-0000000000b2', 'ffffffff-0000-0000-0000-0000000000b2',
   'cccccccc-0000-0000-0000-00000000000b', 'paypal', 'PAYID-TAP-RLS-B2', 12000, 'usd', '2030-01-01 00:05+00');
insert into public.session_packs (id, student_id, mentor_id, product_id, order_id, seat_reservation_id,
    sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
    cancel_notice_hours, purchased_at, expires_at) values
  ('99999999-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-00000000000a',
   'bbbbbbbb-0000-0000-0000-000000000001', 'dddddddd-0000-0000-0000-000000000011',
   'ffffffff-0000-0000-0000-0000000000a1', 'eeeeeeee-0000-0000-0000-0000000000a1',
   4, 4, 10000, 'usd', 72, 24, '2030-01-01 00:05+00', '2030-04-01 00:05+00'),
  ('99999999-0000-0000-0000-0000000000b2', 'cccccccc-0000-0000-0000-00000000000b',
   'bbbbbbbb-0000-0000-0000-000000000002', 'dddddddd-0000-0000-0000-000000000021',
   'ffffffff-0000-0000-0000-0000000000b2', 'eeeeeeee-0000-0000-0000-0000000000b2',
   4, 4, 12000, 'usd', 72, 24, '2030-01-01 00:05+00', '2030-04-01 00:05+00');
insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until) values
  ('55555555-0000-0000-0000-0000000000a1', '99999999-0000-0000-0000-0000000000a1',
   'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a',
   '2030-01-07 10:00+00', '2030-01-07 11:00+00', '2030-01-07 11:15+00'),
  ('55555555-0000-0000-0000-0000000000b2', '99999999-0000-0000-0000-0000000000b2',
   'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b',
   '2030-01-07 10:00+00', '2030-01-07 11:00+00', '2030-01-07 11:15+00');
insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta) values
  ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
   'cccccccc-0000-0000-0000-00000000000a', '55555555-0000-0000-0000-0000000000a1', 'session_booked', -1),
  ('99999999-0000-0000-0000-0000000000b2', 'bbbbbbbb-0000-0000-0000-000000000002',
   'cccccccc-0000-0000-0000-00000000000b', '55555555-0000-0000-0000-0000000000b2', 'session_booked', -1);
insert into public.notifications (recipient_id, kind, channel, dedupe_key, session_id) values
  ('cccccccc-0000-0000-0000-00000000000a', 'session_booked', 'email', 'tap-rls:booked:a1:student',
   '55555555-0000-0000-0000-0000000000a1'),
  ('bbbbbbbb-0000-0000-0000-000000000001', 'session_booked', 'email', 'tap-rls:booked:a1:mentor',
   '55555555-0000-0000-0000-0000000000a1'),
  ('cccccccc-0000-0000-0000-00000000000b', 'session_booked', 'discord', 'tap-rls:booked:b2:student',
   '55555555-0000-0000-0000-0000000000b2');
insert into public.audit_log (actor_id, action, table_name, row_id) values
  ('aaaaaaaa-0000-0000-0000-000000000001', 'mentor.deactivated', 'mentors', 'bbbbbbbb-0000-0000-0000-000000000003');
insert into public.promotion_codes (id, code, percent_off, mentor_id) values
  ('66666666-0000-0000-0000-000000000001', 'TAP-RLS-ALL', 10, null),
  ('66666666-0000-0000-0000-000000000002', 'TAP-RLS-M1', 20, 'bbbbbbbb-0000-0000-0000-000000000001');

-- =====================================================================================
-- === anon (a visitor without an account) ===
-- =====================================================================================
select tests.authenticate_as_anon();

select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'anon: mentors: reads the active mentors M1 and M2, not the deactivated M3');
select is_empty($$select from public.mentors where not is_active$$,
  'anon: mentors: no inactive mentor at all');
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000021')$$,
  'anon: mentorship_products: active products of active mentors only');
select is_empty(
  $$select from public.mentorship_products p
     where not p.is_active or p.mentor_id not in (select m.id from public.mentors m where m.is_active)$$,
  'anon: mentorship_products: no inactive product and none of an inactive mentor');
select is((select public.free_seats(m) from public.mentors m where m.id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  4, 'anon: the free_seats computed field works (M1: capacity 5, one active seat)');
select is((select count(*)::integer from public.platform_settings), 1, 'anon: platform_settings: reads the settings');
select throws_ok($$select * from public.profiles$$, '42501', 'permission denied for table profiles',
  'anon: profiles: no access');
select throws_ok($$select * from public.orders$$, '42501', 'permission denied for table orders',
  'anon: orders: no access');
select throws_ok($$select * from public.payments$$, '42501', 'permission denied for table payments',
  'anon: payments: no access');
select throws_ok($$select * from public.session_packs$$, '42501', 'permission denied for table session_packs',
  'anon: session_packs: no access');
select throws_ok($$select * from public.seat_reservations$$, '42501', 'permission denied for table seat_reservations',
  'anon: seat_reservations: no access');
select throws_ok($$select * from public.sessions$$, '42501', 'permission denied for table sessions',
  'anon: sessions: no access');
select throws_ok($$select * from public.session_credit_ledger$$, '42501', 'permission denied for table session_credit_ledger',
  'anon: session_credit_ledger: no access');
select throws_ok($$select * from public.notifications$$, '42501', 'permission denied for table notifications',
  'anon: notifications: no access');
select throws_ok($$select * from public.audit_log$$, '42501', 'permission denied for table audit_log',
  'anon: audit_log: no access');
select throws_ok($$select * from public.promotion_codes$$, '42501', 'permission denied for table promotion_codes',
  'anon: promotion_codes: no access');
select throws_ok(
  $$update public.mentors set headline = 'hacked' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table mentors', 'anon: mentors: update refused');
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'Free stuff', 0)$$,
  '42501', 'permission denied for table mentorship_products', 'anon: mentorship_products: insert refused');
select throws_ok(
  $$update public.platform_settings set seat_hold_minutes = 5$$,
  '42501', 'permission denied for table platform_settings', 'anon: platform_settings: update refused');
select tests.clear_authentication();

-- =====================================================================================
-- === student A (M1's student) ===
-- =====================================================================================
select tests.authenticate_as('rls_a');

select results_eq($$select id from public.profiles order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid)$$,
  'student A: profiles: only her own');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'student A: mentors: the active mentors');
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000021')$$,
  'student A: mentorship_products: active products of active mentors only');
select results_eq($$select id from public.orders$$,
  $$values ('ffffffff-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: orders: only her own');
select results_eq($$select id from public.payments$$,
  $$values ('77777777-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: payments: only her own');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: session_packs: only her own');
select results_eq($$select id from public.seat_reservations$$,
  $$values ('eeeeeeee-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: seat_reservations: only her own');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000a1'::uuid)$$, 'student A: sessions: only her own');
select results_eq($$select pack_id, delta from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid, -1)$$, 'student A: session_credit_ledger: only her own');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:a1:student')$$, 'student A: notifications: only her own');
select is_empty($$select * from public.audit_log$$, 'student A: audit_log: nothing');
select is_empty($$select * from public.promotion_codes$$, 'student A: promotion_codes: nothing');

with u as (
  update public.profiles set display_name = 'Ana A.' where id = 'cccccccc-0000-0000-0000-00000000000a' returning id
) select is(count(*)::integer, 1, 'student A: profiles: updates her own display name') from u;
select throws_ok(
  $$update public.profiles set role = 'admin' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles', 'student A: profiles: cannot make herself admin (column grant)');
select throws_ok(
  $$update public.profiles set email = 'other@example.test' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '42501', 'permission denied for table profiles', 'student A: profiles: cannot change her email there');
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
with u as (
  update public.mentors set headline = 'hacked' where id = 'bbbbbbbb-0000-0000-0000-000000000001' returning id
) select is(count(*)::integer, 0, 'student A: mentors: updating her mentor''s row changes no row') from u;
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
select throws_ok(
  $$update public.orders set amount_cents = 0 where id = 'ffffffff-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table orders', 'student A: orders: update refused');
select throws_ok(
  $$update public.payments set refunded_cents = 10000 where id = '77777777-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table payments', 'student A: payments: update refused');
select throws_ok(
  $$insert into public.session_packs (student_id, mentor_id, product_id, seat_reservation_id,
      sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
      cancel_notice_hours, purchased_at, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 52, 52, 0, 'usd',
      72, 24, '2030-01-06 00:00+00', '2031-01-06 00:00+00')$$,
  '42501', 'permission denied for table session_packs', 'student A: session_packs: cannot grant herself a pack');
select throws_ok(
  $$update public.seat_reservations set status = 'active' where id = 'eeeeeeee-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table seat_reservations', 'student A: seat_reservations: update refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '2030-01-08 10:00+00', '2030-01-08 11:00+00', '2030-01-08 11:15+00')$$,
  '42501', 'permission denied for table sessions', 'student A: sessions: cannot book around the RPC');
select throws_ok(
  $$update public.sessions set status = 'canceled', canceled_at = now() where id = '55555555-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table sessions', 'student A: sessions: cannot cancel around the RPC');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 10, 'free', 'cccccccc-0000-0000-0000-00000000000a')$$,
  '42501', 'permission denied for table session_credit_ledger', 'student A: session_credit_ledger: cannot credit herself');
select throws_ok(
  $$update public.notifications set status = 'voided', voided_at = now()$$,
  '42501', 'permission denied for table notifications', 'student A: notifications: update refused');
select throws_ok(
  $$insert into public.audit_log (action, table_name) values ('forged', 'profiles')$$,
  '42501', 'permission denied for table audit_log', 'student A: audit_log: insert refused');
select throws_ok(
  $$insert into public.promotion_codes (code, percent_off) values ('TAP-RLS-FREE', 100)$$,
  '42501', 'new row violates row-level security policy for table "promotion_codes"',
  'student A: promotion_codes: cannot create a code');
with u as (
  update public.platform_settings set cancel_notice_hours = 0 returning 1
) select is(count(*)::integer, 0, 'student A: platform_settings: update changes no row') from u;
select tests.clear_authentication();

-- =====================================================================================
-- === student B (M2's student) ===
-- =====================================================================================
select tests.authenticate_as('rls_b');

select results_eq($$select id, display_name from public.profiles order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000b'::uuid, 'Student B')$$,
  'student B: profiles: only his own, its name untouched by student A');
select results_eq($$select id from public.orders$$,
  $$values ('ffffffff-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: orders: only his own');
select results_eq($$select id from public.payments$$,
  $$values ('77777777-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: payments: only his own');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: session_packs: only his own');
select results_eq($$select id from public.seat_reservations$$,
  $$values ('eeeeeeee-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: seat_reservations: only his own');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: sessions: only his own');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'student B: session_credit_ledger: only his own');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:b2:student')$$, 'student B: notifications: only his own');
select is_empty($$select * from public.audit_log$$, 'student B: audit_log: nothing');
select is_empty($$select * from public.promotion_codes$$, 'student B: promotion_codes: nothing');
select is_empty(
  $$select from public.sessions where student_id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  'student B: sessions: none of student A''s, even when asked by id');
select tests.clear_authentication();

-- =====================================================================================
-- === mentor M1 (student A's mentor) ===
-- =====================================================================================
select tests.authenticate_as('rls_m1');

select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('cccccccc-0000-0000-0000-00000000000a')$$,
  'mentor M1: profiles: her own and her student A''s');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002')$$,
  'mentor M1: mentors: the active mentors (M3 is hidden)');
select results_eq(
  $$select id from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by id$$,
  $$values ('dddddddd-0000-0000-0000-000000000011'::uuid), ('dddddddd-0000-0000-0000-000000000012'),
           ('dddddddd-0000-0000-0000-000000000021')$$,
  'mentor M1: mentorship_products: the catalog plus her own inactive product');
select is_empty($$select * from public.orders$$, 'mentor M1: orders: none (money is the buyer''s and the admins'')');
select is_empty($$select * from public.payments$$, 'mentor M1: payments: none');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: session_packs: her student''s');
select results_eq($$select id from public.seat_reservations$$,
  $$values ('eeeeeeee-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: seat_reservations: her student''s');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: sessions: her own');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000a1'::uuid)$$, 'mentor M1: session_credit_ledger: her student''s');
select results_eq($$select dedupe_key from public.notifications$$,
  $$values ('tap-rls:booked:a1:mentor')$$, 'mentor M1: notifications: only her own, not her student''s');
select is_empty($$select * from public.audit_log$$, 'mentor M1: audit_log: nothing');
select results_eq($$select code from public.promotion_codes$$,
  $$values ('TAP-RLS-M1')$$, 'mentor M1: promotion_codes: only the code scoped to her');

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
with u as (
  update public.profiles set display_name = 'renamed' where id = 'cccccccc-0000-0000-0000-00000000000a' returning id
) select is(count(*)::integer, 0, 'mentor M1: profiles: reads but cannot rename her student') from u;
select throws_ok(
  $$update public.profiles set role = 'admin' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '42501', 'permission denied for table profiles', 'mentor M1: profiles: cannot make herself admin');
select throws_ok(
  $$insert into public.promotion_codes (code, percent_off, mentor_id)
    values ('TAP-RLS-M1-HALF', 50, 'bbbbbbbb-0000-0000-0000-000000000001')$$,
  '42501', 'new row violates row-level security policy for table "promotion_codes"',
  'mentor M1: promotion_codes: cannot create a code, not even for herself');
select throws_ok(
  $$update public.sessions set status = 'completed', completed_at = now()
     where id = '55555555-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table sessions', 'mentor M1: sessions: cannot complete around the RPC');
select throws_ok(
  $$update public.session_packs set status = 'expired', expired_at = now()
     where id = '99999999-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table session_packs', 'mentor M1: session_packs: update refused');
select tests.clear_authentication();

-- =====================================================================================
-- === mentor M2 (student B's mentor) ===
-- =====================================================================================
select tests.authenticate_as('rls_m2');

select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000002'::uuid), ('cccccccc-0000-0000-0000-00000000000b')$$,
  'mentor M2: profiles: his own and his student B''s');
select results_eq(
  $$select id, headline from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid, ''), ('bbbbbbbb-0000-0000-0000-000000000002', '')$$,
  'mentor M2: mentors: the active mentors, his headline untouched by M1');
select results_eq(
  $$select title, price_cents from public.mentorship_products
     where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by title$$,
  $$values ('M1 eight sessions', 19000), ('M1 four sessions', 11000), ('M2 four sessions', 12000)$$,
  'mentor M2: mentorship_products: the catalog (M1''s new product and price included, his price untouched)');
select is_empty($$select * from public.orders$$, 'mentor M2: orders: none');
select is_empty($$select * from public.payments$$, 'mentor M2: payments: none');
select results_eq($$select id from public.session_packs$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: session_packs: his student''s');
select results_eq($$select id from public.seat_reservations$$,
  $$values ('eeeeeeee-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: seat_reservations: his student''s');
select results_eq($$select id from public.sessions$$,
  $$values ('55555555-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: sessions: his own');
select results_eq($$select pack_id from public.session_credit_ledger$$,
  $$values ('99999999-0000-0000-0000-0000000000b2'::uuid)$$, 'mentor M2: session_credit_ledger: his student''s');
select is_empty($$select * from public.notifications$$, 'mentor M2: notifications: none (none addressed to him)');
select is_empty($$select * from public.audit_log$$, 'mentor M2: audit_log: nothing');
select is_empty($$select * from public.promotion_codes$$, 'mentor M2: promotion_codes: none (M1''s code is not his)');
select tests.clear_authentication();

-- =====================================================================================
-- === mentor M3 (deactivated by an admin) ===
-- =====================================================================================
select tests.authenticate_as('rls_m3');

select results_eq($$select id from public.profiles order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000003'::uuid)$$, 'mentor M3: profiles: his own (he has no students)');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002'),
           ('bbbbbbbb-0000-0000-0000-000000000003')$$,
  'mentor M3: mentors: the active mentors and his own hidden row');
select results_eq(
  $$select title from public.mentorship_products where mentor_id::text like 'bbbbbbbb-0000-0000-0000-00000000000_' order by title$$,
  $$values ('M1 eight sessions'), ('M1 four sessions'), ('M2 four sessions'), ('M3 four sessions')$$,
  'mentor M3: mentorship_products: the catalog and his own product');
select throws_ok(
  $$update public.mentors set is_active = true where id = 'bbbbbbbb-0000-0000-0000-000000000003'$$,
  '42501', 'permission denied for table mentors', 'mentor M3: mentors: cannot reactivate himself');
select tests.clear_authentication();

-- =====================================================================================
-- === admin ===
-- =====================================================================================
-- what the superuser sees, to compare the admin's reads with
select (select count(*) from public.profiles) as all_profiles,
       (select count(*) from public.mentors) as all_mentors,
       (select count(*) from public.mentorship_products) as all_products,
       (select count(*) from public.orders) as all_orders,
       (select count(*) from public.payments) as all_payments,
       (select count(*) from public.session_packs) as all_packs,
       (select count(*) from public.seat_reservations) as all_seats,
       (select count(*) from public.sessions) as all_sessions,
       (select count(*) from public.session_credit_ledger) as all_ledger,
       (select count(*) from public.notifications) as all_notifications,
       (select count(*) from public.audit_log) as all_audit,
       (select count(*) from public.promotion_codes) as all_codes
\gset
select tests.authenticate_as('rls_admin');

select is((select count(*) from public.profiles), :all_profiles::bigint, 'admin: profiles: every row');
select is((select count(*) from public.mentors), :all_mentors::bigint, 'admin: mentors: every row, inactive ones too');
select is((select count(*) from public.mentorship_products), :all_products::bigint, 'admin: mentorship_products: every row');
select is((select count(*) from public.orders), :all_orders::bigint, 'admin: orders: every row');
select is((select count(*) from public.payments), :all_payments::bigint, 'admin: payments: every row');
select is((select count(*) from public.session_packs), :all_packs::bigint, 'admin: session_packs: every row');
select is((select count(*) from public.seat_reservations), :all_seats::bigint, 'admin: seat_reservations: every row');
select is((select count(*) from public.sessions), :all_sessions::bigint, 'admin: sessions: every row');
select is((select count(*) from public.session_credit_ledger), :all_ledger::bigint, 'admin: session_credit_ledger: every row');
select is((select count(*) from public.notifications), :all_notifications::bigint, 'admin: notifications: every row');
select is((select count(*) from public.audit_log), :all_audit::bigint, 'admin: audit_log: every row');
select is((select count(*) from public.promotion_codes), :all_codes::bigint, 'admin: promotion_codes: every row');
select results_eq(
  $$select id from public.mentors where slug like 'tap-rls-%' order by id$$,
  $$values ('bbbbbbbb-0000-0000-0000-000000000001'::uuid), ('bbbbbbbb-0000-0000-0000-000000000002'),
           ('bbbbbbbb-0000-0000-0000-000000000003')$$,
  'admin: mentors: this file''s three mentors, M3 included');
select results_eq(
  $$select dedupe_key from public.notifications where dedupe_key like 'tap-rls:%' order by dedupe_key$$,
  $$values ('tap-rls:booked:a1:mentor'), ('tap-rls:booked:a1:student'), ('tap-rls:booked:b2:student')$$,
  'admin: notifications: everyone''s');

select lives_ok(
  $$insert into public.promotion_codes (code, percent_off, valid_until) values ('TAP-RLS-SPRING', 15, '2030-04-01')$$,
  'admin: promotion_codes: creates a code');
select is((select created_by from public.promotion_codes where code = 'TAP-RLS-SPRING'),
  'aaaaaaaa-0000-0000-0000-000000000001'::uuid, 'admin: promotion_codes: the code records who created it');
with u as (
  update public.promotion_codes set is_active = false where code = 'TAP-RLS-M1' returning id
) select is(count(*)::integer, 1, 'admin: promotion_codes: deactivates a code') from u;
select lives_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'M2 intro session', 3000)$$,
  'admin: mentorship_products: adds a product for a mentor');
with u as (
  update public.platform_settings set cancel_notice_hours = 48 returning 1
) select is(count(*)::integer, 1, 'admin: platform_settings: updates the settings') from u;
select is(tests.refusal(
  $$update public.platform_settings set grace_warning_hours = 100, grace_period_hours = 72$$),
  'PT422: grace_warning_hours (100) must not exceed grace_period_hours (72)',
  'admin: platform_settings: a grace warning longer than the grace period is refused');
select throws_ok(
  $$update public.profiles set role = 'mentor' where id = 'cccccccc-0000-0000-0000-00000000000b'$$,
  '42501', 'permission denied for table profiles',
  'admin: profiles: role changes go through an RPC, not a direct update (column grant)');
select throws_ok(
  $$update public.mentors set is_active = true where id = 'bbbbbbbb-0000-0000-0000-000000000003'$$,
  '42501', 'permission denied for table mentors',
  'admin: mentors: reactivation goes through an RPC, not a direct update (column grant)');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, 'goodwill', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '42501', 'permission denied for table session_credit_ledger',
  'admin: session_credit_ledger: adjustments go through an RPC, not a direct insert');
select throws_ok(
  $$delete from public.audit_log$$,
  '42501', 'permission denied for table audit_log', 'admin: audit_log: delete refused');
select throws_ok(
  $$update public.orders set status = 'refunded' where id = 'ffffffff-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table orders', 'admin: orders: update refused (refunds come from the webhook)');
select tests.clear_authentication();

-- === superuser: the admin's writes landed, nothing else did ===
select results_eq(
  $$select id, display_name, role::text from public.profiles
     where id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b') order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid, 'Ana A.', 'student'),
           ('cccccccc-0000-0000-0000-00000000000b', 'Student B', 'student')$$,
  'afterwards: only student A''s own rename landed on the students'' profiles');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  3, 'afterwards: pack A''s credits are what the ledger says');

select * from finish();
rollback;
