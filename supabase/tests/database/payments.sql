-- Who may call the payment RPCs (sql/rules/payments.sql), and exact money: PayPal's decimal
-- strings become integer minor units without floats. Behaviour over HTTP is in
-- tests/sql/rules/test_payments.py.
--
-- Ids used below:
--   mentor M1 bbbbbbbb-0000-0000-0000-000000000001   student A cccccccc-0000-0000-0000-00000000000a
--   product   dddddddd-0000-0000-0000-000000000011
begin;
set search_path = public, extensions;
select plan(25);

-- === privileges: who may execute what ===
select function_privs_are('public', 'create_order', array['text', 'text', 'text'], 'anon', array[]::text[],
  'anon cannot create orders');
select function_privs_are('public', 'create_order', array['text', 'text', 'text'], 'authenticated', array['EXECUTE'],
  'signed-in users may call create_order (it checks for a student)');
select function_privs_are('public', 'record_payment_event', array['text', 'text', 'text', 'jsonb'], 'anon',
  array[]::text[], 'anon cannot record payment events');
select function_privs_are('public', 'record_payment_event', array['text', 'text', 'text', 'jsonb'], 'authenticated',
  array[]::text[], 'no signed-in user (student, mentor, admin) can record payment events');
select function_privs_are('public', 'record_payment_event', array['text', 'text', 'text', 'jsonb'], 'service_role',
  array['EXECUTE'], 'the service role (webhooks) records payment events');
select function_privs_are('public', 'attach_order_checkout', array['text', 'text'], 'authenticated', array[]::text[],
  'a student cannot attach a checkout id to an order');
select function_privs_are('public', 'attach_order_checkout', array['text', 'text'], 'service_role', array['EXECUTE'],
  'the checkout service attaches checkout ids');
select function_privs_are('public', 'order_for_capture', array['text'], 'anon', array[]::text[],
  'anon cannot look up orders for capture');
select function_privs_are('private', 'fulfil_order',
  array['payment_provider', 'text', 'text', 'integer', 'text', 'text'], 'service_role', array[]::text[],
  'not even the service role calls the fulfilment helper directly');
select function_privs_are('private', 'refund_payment', array['payment_provider', 'text', 'integer'],
  'authenticated', array[]::text[], 'nobody signed in calls the refund helper');

-- === PayPal amounts in minor units ===
select is(private.paypal_amount_cents('{"currency_code": "USD", "value": "199.99"}'), 19999, 'USD 199.99 is 19999 cents');
select is(private.paypal_amount_cents('{"currency_code": "USD", "value": "12"}'), 1200, 'USD 12 is 1200 cents');
select is(private.paypal_amount_cents('{"currency_code": "EUR", "value": "0.10"}'), 10, 'EUR 0.10 is 10 cents');
select is(private.paypal_amount_cents('{"currency_code": "JPY", "value": "3000"}'), 3000, 'JPY has no decimals');
select is(private.paypal_amount_cents('{"currency_code": "HUF", "value": "1500"}'), 150000,
  'PayPal writes forints whole, but a forint has 100 fillér');
select is(tests.refusal($$select private.paypal_amount_cents('{"currency_code": "USD", "value": "1.005"}')$$), 'PT422: amount.value 1.005 has more than 2 decimals', 'a third decimal is refused, not rounded');
select is(tests.refusal($$select private.paypal_amount_cents('{"currency_code": "JPY", "value": "30.5"}')$$), 'PT422: amount.value 30.5 has more than 0 decimals', 'yen with decimals is refused');
select is(tests.refusal($$select private.paypal_amount_cents('{"currency_code": "USD", "value": "1e3"}')$$), 'PT422: amount.value 1e3 is not a decimal amount', 'exponents are refused');
select is(tests.refusal($$select private.paypal_amount_cents('{"currency_code": "USD", "value": "-5.00"}')$$), 'PT422: amount.value -5.00 is not a decimal amount', 'negative amounts are refused');
select is(private.paypal_amount_cents(null), null::integer, 'no amount is null');

-- === create_order as the users who may not buy ===
select tests.create_user('pay_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001');
select tests.create_user('pay_a', id => 'cccccccc-0000-0000-0000-00000000000a');
insert into public.mentors (id, slug, public_name, time_zone, seat_capacity)
  values ('bbbbbbbb-0000-0000-0000-000000000001', 'tap-pay-m1', 'Mentor One', 'Europe/Berlin', 1);
insert into public.mentorship_products (id, mentor_id, title, price_cents)
  values ('dddddddd-0000-0000-0000-000000000011', 'bbbbbbbb-0000-0000-0000-000000000001', 'Four sessions', 10000);

select tests.authenticate_as('pay_m1');
select is(tests.refusal($$select public.create_order('dddddddd-0000-0000-0000-000000000011', 'stripe')$$), 'PT403: only students can buy session packs', 'a mentor cannot buy (not even their own pack)');

select tests.authenticate_as('pay_a');
select is((select amount_cents from public.create_order('dddddddd-0000-0000-0000-000000000011', 'paypal')), 10000,
  'student A orders at the list price');
select is((select count(*)::integer from public.seat_reservations), 1, 'student A sees the one hold, theirs');
select throws_ok($$select public.record_payment_event('stripe', 'evt_1', 'checkout.session.completed', '{}')$$,
  '42501', null, 'student A cannot record a payment event for their own order');
select tests.clear_authentication();
select is((select count(*)::integer from private.webhook_events where event_id = 'evt_1'), 0,
  'nothing reached the inbox');

select * from finish();
rollback;
