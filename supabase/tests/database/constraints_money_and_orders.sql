-- The data model's money checks: integer cents, never negative, and an order's amount is its
-- (grandfathered or list) price minus its discount.
-- Everything here runs as the superuser (constraints hold for everyone) and is rolled back;
-- tests.create_constraints_world() (supabase/tests/helpers/) builds the world, with the input
-- checks (sql/rules/input_checks.sql) off so that the constraints are tested on their own.
--
-- Ids used below:
--   mentors   M1 bbbbbbbb-0000-0000-0000-000000000001   M2 bbbbbbbb-0000-0000-0000-000000000002
--   students  A  cccccccc-0000-0000-0000-00000000000a   B  cccccccc-0000-0000-0000-00000000000b
--   products  P1 (M1) dddddddd-0000-0000-0000-000000000011   P2 (M2) dddddddd-0000-0000-0000-000000000021
--   seats     eeeeeeee-0000-0000-0000-0000000000<student><mentor>: a1 = A with M1, b1, a2
--   packs     99999999-0000-0000-0000-0000000000<student><mentor>: a1, b1, a2
--   sessions  55555555-0000-0000-0000-0000000000..
begin;
set search_path = public, extensions;
select plan(11);

-- === setup (superuser): two mentors, two students, products, seats, packs ===
select tests.create_constraints_world();

-- === money: integer cents, never negative ===
select throws_ok(
  $$insert into public.mentorship_products (mentor_id, title, price_cents)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'Negative', -1)$$,
  '23514', 'new row for relation "mentorship_products" violates check constraint "mentorship_products_price_cents_check"',
  'a product price below zero is refused');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      grandfathered_price_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', -1, 1000, 1000, 'usd', '2030-01-01 00:30+00')$$,
  '23514', 'new row for relation "orders" violates check constraint "orders_list_price_cents_check"',
  'an order list price below zero is refused');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', 10000, -100, 10100, 'usd', '2030-01-01 00:30+00')$$,
  '23514', 'new row for relation "orders" violates check constraint "orders_discount_cents_check"',
  'a negative discount is refused');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', 10000, 10100, -100, 'usd', '2030-01-01 00:30+00')$$,
  '23514', 'new row for relation "orders" violates check constraint "orders_amount_cents_check"',
  'a discount larger than the price (amount below zero) is refused');
select throws_ok(
  $$insert into public.session_packs (student_id, mentor_id, product_id, seat_reservation_id,
      sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
      cancel_notice_hours, purchased_at, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 4, 4, -1, 'usd',
      72, 24, '2030-01-01 00:00+00', '2030-04-01 00:00+00')$$,
  '23514', 'new row for relation "session_packs" violates check constraint "session_packs_price_cents_check"',
  'a pack price below zero is refused');

-- === orders: amount = (grandfathered or list price) - discount ===
select lives_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', 10000, 1000, 9000, 'usd', '2030-01-01 00:30+00')$$,
  'an order priced list price - discount is accepted');
select lives_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      grandfathered_price_cents, discount_cents, amount_cents, currency, expires_at, status)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'paypal', 10000, 8000, 1000, 7000, 'usd', '2030-01-01 00:30+00',
      'canceled')$$,
  'an order priced grandfathered price - discount is accepted');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'paypal', 10000, 0, 10000, 'usd', '2030-01-01 00:30+00')$$,
  '23505', null, 'a second pending order of the same product by the same student is refused');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', 10000, 1000, 10000, 'usd', '2030-01-01 00:30+00')$$,
  '23514', 'new row for relation "orders" violates check constraint "orders_check"',
  'an order whose amount ignores the discount is refused');
select throws_ok(
  $$insert into public.orders (student_id, mentor_id, product_id, provider, list_price_cents,
      grandfathered_price_cents, discount_cents, amount_cents, currency, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'stripe', 10000, 8000, 1000, 9000, 'usd', '2030-01-01 00:30+00')$$,
  '23514', 'new row for relation "orders" violates check constraint "orders_check"',
  'an order that charges the list price although a grandfathered price is set is refused');
select throws_ok(
  $$insert into public.payments (order_id, student_id, provider, provider_payment_id, amount_cents,
      refunded_cents, currency, paid_at)
    select o.id, o.student_id, o.provider, 'pi_tap_over_refund', 9000, 9001, 'usd', '2030-01-01 00:10+00'
      from public.orders o where o.amount_cents = 9000 and o.student_id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '23514', 'new row for relation "payments" violates check constraint "payments_check"',
  'a payment refunded beyond its amount is refused');

select * from finish();
rollback;
