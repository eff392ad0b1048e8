-- The data model's checks on seat_reservations: what each status requires, and one live seat
-- per (mentor, student).
-- Everything here runs as the superuser (constraints hold for everyone) and is rolled back.
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
select plan(7);

-- The input checks (sql/rules/input_checks.sql) answer a client
-- first; here the constraints behind them are tested on their own.
alter table public.profiles disable trigger _050_check_input;
alter table public.mentors disable trigger _050_check_input;
alter table public.mentorship_products disable trigger _050_check_input;
alter table public.promotion_codes disable trigger _050_check_input;
alter table public.platform_settings disable trigger _050_check_input;

-- === setup (superuser): two mentors, two students, products, seats, packs ===
select tests.create_user('constraints_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001', display_name => 'Mentor One');
select tests.create_user('constraints_m2', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000002', display_name => 'Mentor Two');
select tests.create_user('constraints_a', id => 'cccccccc-0000-0000-0000-00000000000a', display_name => 'Student A');
select tests.create_user('constraints_b', id => 'cccccccc-0000-0000-0000-00000000000b', display_name => 'Student B');
insert into public.mentors (id, slug, public_name, time_zone, buffer_minutes) values
  ('bbbbbbbb-0000-0000-0000-000000000001', 'tap-constraints-m1', 'Mentor One', 'Europe/Berlin', 15),
  ('bbbbbbbb-0000-0000-0000-000000000002', 'tap-constraints-m2', 'Mentor Two', 'America/New_York', 15);
insert into public.mentorship_products (id, mentor_id, title, price_cents) values
  ('dddddddd-0000-0000-0000-000000000011', 'bbbbbbbb-0000-0000-0000-000000000001', 'Four sessions', 10000),
  ('dddddddd-0000-0000-0000-000000000021', 'bbbbbbbb-0000-0000-0000-000000000002', 'Four sessions', 12000);
insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at) values
  ('eeeeeeee-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00'),
  ('eeeeeeee-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000b', 'active', '2030-01-01 00:00+00'),
  ('eeeeeeee-0000-0000-0000-0000000000a2', 'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00');
insert into public.session_packs (id, student_id, mentor_id, product_id, seat_reservation_id,
    sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
    cancel_notice_hours, purchased_at, expires_at) values
  ('99999999-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
   'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 4, 4, 10000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00'),
  ('99999999-0000-0000-0000-0000000000b1', 'cccccccc-0000-0000-0000-00000000000b', 'bbbbbbbb-0000-0000-0000-000000000001',
   'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000b1', 4, 4, 10000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00'),
  ('99999999-0000-0000-0000-0000000000a2', 'cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000002',
   'dddddddd-0000-0000-0000-000000000021', 'eeeeeeee-0000-0000-0000-0000000000a2', 4, 4, 12000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00');

-- === seat_reservations: what each status requires ===
select throws_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'hold')$$,
  '23514', 'new row for relation "seat_reservations" violates check constraint "seat_reservations_check"',
  'a hold without hold_expires_at is refused');
select throws_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'active')$$,
  '23514', 'new row for relation "seat_reservations" violates check constraint "seat_reservations_check1"',
  'an active seat without activated_at is refused');
select throws_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status, grace_started_at, grace_ends_at)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'grace',
      '2030-01-05 00:00+00', '2030-01-04 23:59+00')$$,
  '23514', 'new row for relation "seat_reservations" violates check constraint "seat_reservations_check2"',
  'a grace seat whose grace ends before it starts is refused (a zero-hour grace is allowed)');
select throws_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status, released_at)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'released',
      '2030-01-05 00:00+00')$$,
  '23514', 'new row for relation "seat_reservations" violates check constraint "seat_reservations_check3"',
  'a released seat without a release reason is refused');
select lives_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)
    values ('bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000b', 'hold',
      '2030-01-01 00:30+00')$$,
  'a hold with hold_expires_at is accepted');

-- === one live seat per (mentor, student) ===
select throws_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)
    values ('bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'hold',
      '2030-01-01 00:30+00')$$,
  '23505', 'duplicate key value violates unique constraint "seat_reservations_one_live_seat_key"',
  'a second live seat (hold beside an active seat) for the same mentor and student is refused');
select lives_ok(
  $$insert into public.seat_reservations (mentor_id, student_id, status, released_at, release_reason) values
      ('bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'released', '2029-06-01 00:00+00', 'grace_ended'),
      ('bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'released', '2029-09-01 00:00+00', 'hold_expired')$$,
  'released seats of the same mentor and student may sit beside the live one');

select * from finish();
rollback;
