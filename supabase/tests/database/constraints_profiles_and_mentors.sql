-- The data model's checks on profiles, mentors and the catalog: valid time zones, working
-- hours, slugs and avatar urls, and the mentor-role trigger (a mentors row only for a profile
-- whose role is mentor, and that role stays while the row exists).
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
select plan(36);

-- === setup (superuser): two mentors, two students, products, seats, packs ===
select tests.create_constraints_world();

-- === time zones (private.is_valid_time_zone) ===
select ok(private.is_valid_time_zone('Europe/Berlin'), 'Europe/Berlin is a valid time zone');
select ok(not private.is_valid_time_zone('Mars/Olympus'), 'Mars/Olympus is not a time zone');
select ok(not private.is_valid_time_zone(''), 'the empty string is not a time zone');
select ok(not private.is_valid_time_zone(null), 'null is not a time zone');
select ok(not private.is_valid_time_zone('UTC+5'), 'a POSIX offset string is not an IANA zone');
select ok(not private.is_valid_time_zone('+05:00'), 'a bare offset is not an IANA zone');
select ok(not private.is_valid_time_zone('europe/berlin'), 'zone names are case-sensitive, as in IANA');
select ok(private.is_valid_time_zone('America/Argentina/Buenos_Aires'), 'three-part zone names are valid');
select ok(private.is_valid_time_zone('Etc/GMT+5'), 'Etc/GMT+5 is an IANA zone');
select ok(private.is_valid_time_zone('UTC'), 'UTC is valid');

-- === a mentor's role stays while the mentor row exists ===
select is(tests.refusal($$update public.profiles set role = 'student' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$), 'PT409: profile bbbbbbbb-0000-0000-0000-000000000001 is a mentor with a mentor profile; its role cannot change',
  'demoting a mentor who has a mentors row is refused');
select lives_ok(
  $$update public.profiles set role = 'admin' where id = 'cccccccc-0000-0000-0000-00000000000b'$$,
  'a role change of someone without a mentors row is allowed (superuser)');
select lives_ok(
  $$update public.profiles set time_zone = 'America/Sao_Paulo' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  'a profile accepts a valid time zone');
select throws_ok(
  $$update public.profiles set time_zone = 'Mars/Olympus' where id = 'cccccccc-0000-0000-0000-00000000000a'$$,
  '23514', 'new row for relation "profiles" violates check constraint "profiles_time_zone_check"',
  'a profile refuses an unknown time zone');
select throws_ok(
  $$update public.mentors set time_zone = 'Mars/Olympus' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_time_zone_check"',
  'a mentor refuses an unknown time zone');

-- === working hours (private.is_valid_working_hours), mentor M1's row ===
select lives_ok(
  $$update public.mentors set working_hours =
      '[{"weekday":1,"start":"09:00","end":"12:00"},{"weekday":1,"start":"12:00","end":"17:00"},
        {"weekday":2,"start":"09:00","end":"12:00"},{"weekday":7,"start":"20:00","end":"24:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  'working hours: touching windows, the same window on two days and a 24:00 end are accepted');
select lives_ok(
  $$update public.mentors set working_hours = '[]' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  'working hours: an empty list is accepted');
select throws_ok(
  $$update public.mentors set working_hours =
      '[{"weekday":1,"start":"09:00","end":"12:00"},{"weekday":1,"start":"11:00","end":"13:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: overlapping windows on one day are refused');
select throws_ok(
  $$update public.mentors set working_hours =
      '[{"weekday":3,"start":"13:00","end":"18:00"},{"weekday":3,"start":"08:00","end":"10:00"},
        {"weekday":3,"start":"09:00","end":"20:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: overlapping windows listed out of order are refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":8,"start":"09:00","end":"17:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: weekday 8 is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":0,"start":"09:00","end":"17:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: weekday 0 is refused (ISO weekdays are 1..7)');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":"1","start":"09:00","end":"17:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: a weekday given as a string is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"17:00","end":"09:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: start after end is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"09:00","end":"09:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: an empty window (start = end) is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"09:00","end":"17:00","note":"lunch"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: an extra key is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"09:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: a missing key is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"24:00","end":"24:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: 24:00 is an end, never a start');
select throws_ok(
  $$update public.mentors set working_hours = '[{"weekday":1,"start":"9:00","end":"17:00"}]'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: a time not written HH:MM is refused');
select throws_ok(
  $$update public.mentors set working_hours = '{"weekday":1,"start":"09:00","end":"17:00"}'
    where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: a single object instead of a list is refused');
select throws_ok(
  $$update public.mentors set working_hours = '[1]' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_working_hours_check"',
  'working hours: a list element that is not an object is refused');

-- === mentors: only for a profile whose role is mentor ===
select is(tests.refusal($$insert into public.mentors (id, slug, public_name, time_zone)
    values ('cccccccc-0000-0000-0000-00000000000a', 'tap-constraints-a', 'Student A', 'UTC')$$), 'PT422: profile cccccccc-0000-0000-0000-00000000000a is not a mentor',
  'a mentors row for a student profile is refused');
update public.profiles set role = 'admin' where id = 'cccccccc-0000-0000-0000-00000000000b';
select is(tests.refusal($$insert into public.mentors (id, slug, public_name, time_zone)
    values ('cccccccc-0000-0000-0000-00000000000b', 'tap-constraints-b', 'Student B', 'UTC')$$), 'PT422: profile cccccccc-0000-0000-0000-00000000000b is not a mentor',
  'a mentors row for an admin profile is refused');
update public.profiles set role = 'mentor' where id = 'cccccccc-0000-0000-0000-00000000000b';
select lives_ok(
  $$insert into public.mentors (id, slug, public_name, time_zone)
    values ('cccccccc-0000-0000-0000-00000000000b', 'tap-constraints-b', 'Now A Mentor', 'Asia/Tokyo')$$,
  'once the profile''s role is mentor the mentors row is accepted');

-- === other checks on the catalog ===
select throws_ok(
  $$update public.mentors set slug = 'Not A Slug' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_slug_check"',
  'a slug that is not lowercase-dashed is refused');
select throws_ok(
  $$update public.mentors set avatar_url = 'http://example.test/a.png' where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
  '23514', 'new row for relation "mentors" violates check constraint "mentors_avatar_url_check"',
  'a non-https avatar url is refused');
select throws_ok(
  $$insert into public.promotion_codes (code, percent_off, amount_off_cents, currency)
    values ('TAP-BOTH', 10, 500, 'usd')$$,
  '23514', 'new row for relation "promotion_codes" violates check constraint "promotion_codes_check"',
  'a promotion code that is both percent and fixed is refused');

select * from finish();
rollback;
