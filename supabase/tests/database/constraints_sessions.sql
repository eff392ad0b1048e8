-- The data model's checks on sessions: the exclusion constraints (no overlap for a mentor,
-- buffer included, nor for a student), their shape, and the composite foreign key to the pack.
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
select plan(16);

-- === setup (superuser): two mentors, two students, products, seats, packs ===
select tests.create_constraints_world();

-- === sessions: mentor M1 with student A, 2030-01-07 10:00-11:00, busy until 11:15 ===
insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until) values
  ('55555555-0000-0000-0000-000000000001', '99999999-0000-0000-0000-0000000000a1',
   'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a',
   '2030-01-07 10:00+00', '2030-01-07 11:00+00', '2030-01-07 11:15+00');

-- === sessions: mentor M1 with student B (mentor overlap) ===
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '2030-01-07 10:30+00', '2030-01-07 11:30+00', '2030-01-07 11:45+00')$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_mentor_no_overlap"',
  'two overlapping scheduled sessions of one mentor are refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '2030-01-07 11:00+00', '2030-01-07 12:00+00', '2030-01-07 12:15+00')$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_mentor_no_overlap"',
  'a session starting right at the end of another, inside its buffer, is refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '2030-01-07 08:50+00', '2030-01-07 09:50+00', '2030-01-07 10:05+00')$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_mentor_no_overlap"',
  'a session whose own buffer runs into the next session is refused');
select lives_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '2030-01-07 11:15+00', '2030-01-07 12:15+00', '2030-01-07 12:30+00')$$,
  'a session starting when the previous buffer ends is accepted');

-- a canceled session does not block its slot
insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until) values
  ('55555555-0000-0000-0000-000000000002', '99999999-0000-0000-0000-0000000000b1',
   'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000b',
   '2030-01-07 14:00+00', '2030-01-07 15:00+00', '2030-01-07 15:15+00');
update public.sessions set status = 'canceled', canceled_at = '2030-01-02 00:00+00'
 where id = '55555555-0000-0000-0000-000000000002';
select lives_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '2030-01-07 14:00+00', '2030-01-07 15:00+00', '2030-01-07 15:15+00')$$,
  'a canceled session does not block its slot');
select throws_ok(
  $$update public.sessions set status = 'scheduled', canceled_at = null
     where id = '55555555-0000-0000-0000-000000000002'$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_mentor_no_overlap"',
  'putting the canceled session back on the schedule over the new one is refused');
select throws_ok(
  $$update public.sessions set starts_at = '2030-01-07 09:00+00', ends_at = '2030-01-07 10:00+00',
       blocked_until = '2030-01-07 10:15+00'
     where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' and starts_at = '2030-01-07 11:15+00'$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_mentor_no_overlap"',
  'moving a session so that its buffer overlaps another is refused');

-- === sessions: student A with mentor M2 (student overlap) ===
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a2', 'bbbbbbbb-0000-0000-0000-000000000002',
      'cccccccc-0000-0000-0000-00000000000a', '2030-01-07 10:30+00', '2030-01-07 11:30+00', '2030-01-07 11:45+00')$$,
  '23P01', 'conflicting key value violates exclusion constraint "sessions_student_no_overlap"',
  'a student cannot have two overlapping scheduled sessions with different mentors');
select lives_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a2', 'bbbbbbbb-0000-0000-0000-000000000002',
      'cccccccc-0000-0000-0000-00000000000a', '2030-01-07 11:00+00', '2030-01-07 12:00+00', '2030-01-07 12:15+00')$$,
  'a student may go straight from one mentor to another (the mentor''s buffer is not the student''s)');
select is(
  (select count(*)::integer from public.sessions
    where student_id = 'cccccccc-0000-0000-0000-00000000000a' and status = 'scheduled'),
  3, 'student A holds exactly the three sessions that were accepted');

-- === sessions: shape and composite foreign key ===
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '2030-02-01 10:00+00', '2030-02-01 10:00+00', '2030-02-01 10:00+00')$$,
  '23514', 'new row for relation "sessions" violates check constraint "sessions_check"',
  'a session that ends when it starts is refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '2030-02-01 10:00+00', '2030-02-01 11:00+00', '2030-02-01 10:59+00')$$,
  '23514', 'new row for relation "sessions" violates check constraint "sessions_check1"',
  'a session blocked for less than its own length is refused');
select throws_ok(
  $$update public.sessions set status = 'canceled' where id = '55555555-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "sessions" violates check constraint "sessions_check2"',
  'a canceled session without canceled_at is refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000002',
      'cccccccc-0000-0000-0000-00000000000a', '2030-02-01 10:00+00', '2030-02-01 11:00+00', '2030-02-01 11:15+00')$$,
  '23503', 'insert or update on table "sessions" violates foreign key constraint "sessions_pack_id_mentor_id_student_id_fkey"',
  'a session whose mentor is not its pack''s mentor is refused');
select throws_ok(
  $$insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '2030-02-01 10:00+00', '2030-02-01 11:00+00', '2030-02-01 11:15+00')$$,
  '23503', 'insert or update on table "sessions" violates foreign key constraint "sessions_pack_id_mentor_id_student_id_fkey"',
  'a session whose student is not its pack''s student is refused');
select throws_ok(
  $$update public.sessions set mentor_id = 'bbbbbbbb-0000-0000-0000-000000000002'
     where id = '55555555-0000-0000-0000-000000000002'$$,
  '23503', 'insert or update on table "sessions" violates foreign key constraint "sessions_pack_id_mentor_id_student_id_fkey"',
  'moving a session to another mentor than its pack''s is refused');

select * from finish();
rollback;
