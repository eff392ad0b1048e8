-- The world the rls_*.sql pgTAP files share, built by the superuser inside the calling file's
-- transaction (so it rolls back with it): an admin, mentors M1 and M2 and M3 (deactivated by
-- the admin), students A (M1's) and B (M2's), with products, seats, orders, payments, packs,
-- a session each, ledger entries, messages, an audit entry and two promotion codes. The clock
-- is frozen at 2030-01-06 12:00 UTC. The ids are listed at the top of every rls_*.sql file.
create or replace function tests.create_rls_world()
returns void
language plpgsql
as $world$
begin
update private.clock set frozen_at = null;
perform tests.freeze_clock('2030-01-06 12:00+00');
perform tests.create_user('rls_admin', 'admin', id => 'aaaaaaaa-0000-0000-0000-000000000001', display_name => 'Admin');
perform tests.create_user('rls_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001', display_name => 'Mentor One');
perform tests.create_user('rls_m2', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000002', display_name => 'Mentor Two');
perform tests.create_user('rls_m3', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000003', display_name => 'Mentor Three');
perform tests.create_user('rls_a', id => 'cccccccc-0000-0000-0000-00000000000a', display_name => 'Student A');
perform tests.create_user('rls_b', id => 'cccccccc-0000-0000-0000-00000000000b', display_name => 'Student B');
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
end
$world$;
revoke execute on function tests.create_rls_world() from public;
