-- The data model's checks on seat_reservations: what each status requires, and one live seat
-- per (mentor, student).
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
select plan(7);

-- === setup (superuser): two mentors, two students, products, seats, packs ===
select tests.create_constraints_world();

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
