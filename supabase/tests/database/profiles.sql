-- A profile is created for every new auth user (role student, whatever the sign-up metadata
-- says) and follows its email. These inserts into auth.users are what is under test, so they
-- are written out rather than made with tests.create_user.
--
-- Ids used below:
--   ana   cccccccc-0000-0000-0000-000000000001 (full sign-up metadata)
--   bo    cccccccc-0000-0000-0000-000000000002 (no metadata)
--   cy    cccccccc-0000-0000-0000-000000000003 (invalid time zone, empty display name)
--   eve   cccccccc-0000-0000-0000-000000000004 (metadata claims role admin)
--   phil  cccccccc-0000-0000-0000-000000000005 (phone sign-up, no email)
--   long  cccccccc-0000-0000-0000-000000000006 (display name over 100 characters)
begin;
set search_path = public, extensions;
select plan(12);

-- === sign-up creates the profile ===
insert into auth.users (id, email, raw_user_meta_data) values
  ('cccccccc-0000-0000-0000-000000000001', 'ana@example.test',
   '{"display_name":"Ana Ruiz","time_zone":"Europe/Berlin"}');
select results_eq(
  $$select role::text, email, display_name, time_zone from public.profiles
     where id = 'cccccccc-0000-0000-0000-000000000001'$$,
  $$values ('student', 'ana@example.test', 'Ana Ruiz', 'Europe/Berlin')$$,
  'sign-up with metadata: a student profile with the given name and time zone');

insert into auth.users (id, email) values ('cccccccc-0000-0000-0000-000000000002', 'bo.lee@example.test');
select results_eq(
  $$select role::text, email, display_name, time_zone from public.profiles
     where id = 'cccccccc-0000-0000-0000-000000000002'$$,
  $$values ('student', 'bo.lee@example.test', 'bo.lee', 'UTC')$$,
  'sign-up without metadata: named after the email''s local part, time zone UTC');

insert into auth.users (id, email, raw_user_meta_data) values
  ('cccccccc-0000-0000-0000-000000000003', 'cy@example.test', '{"display_name":"","time_zone":"Mars/Olympus"}');
select results_eq(
  $$select display_name, time_zone from public.profiles where id = 'cccccccc-0000-0000-0000-000000000003'$$,
  $$values ('cy', 'UTC')$$,
  'an empty display name falls back to the email''s local part, an invalid time zone to UTC');

insert into auth.users (id, email, raw_user_meta_data, raw_app_meta_data) values
  ('cccccccc-0000-0000-0000-000000000004', 'eve@example.test',
   '{"display_name":"Eve","role":"admin","user_role":"admin"}', '{"role":"admin"}');
select is((select role::text from public.profiles where id = 'cccccccc-0000-0000-0000-000000000004'),
  'student', 'metadata claiming role admin still makes a student');
select set_config('request.jwt.claims',
  '{"sub":"cccccccc-0000-0000-0000-000000000004","role":"authenticated","user_metadata":{"role":"admin"},"app_metadata":{"role":"admin"}}',
  true);
set local role authenticated;
select is(private.is_admin(), false, 'private.is_admin() is false for her, whatever her token''s metadata says');
reset role;

insert into auth.users (id, phone) values ('cccccccc-0000-0000-0000-000000000005', '+15550100');
select results_eq(
  $$select email, display_name, time_zone from public.profiles where id = 'cccccccc-0000-0000-0000-000000000005'$$,
  $$values (null::text, '', 'UTC')$$,
  'a phone sign-up without email gets an empty display name');

insert into auth.users (id, email, raw_user_meta_data) values
  ('cccccccc-0000-0000-0000-000000000006', 'long@example.test',
   jsonb_build_object('display_name', repeat('x', 150)));
select is((select display_name from public.profiles where id = 'cccccccc-0000-0000-0000-000000000006'),
  repeat('x', 100), 'a display name over 100 characters is cut to 100');

select is((select count(*)::integer from public.profiles where id::text like 'cccccccc-0000-0000-0000-00000000000_'),
  6, 'exactly one profile per new auth user');

-- === the profile follows the auth user ===
update auth.users set email = 'ana.ruiz@example.test' where id = 'cccccccc-0000-0000-0000-000000000001';
select is((select email from public.profiles where id = 'cccccccc-0000-0000-0000-000000000001'),
  'ana.ruiz@example.test', 'changing auth.users.email updates profiles.email');
select is((select display_name from public.profiles where id = 'cccccccc-0000-0000-0000-000000000001'),
  'Ana Ruiz', 'the email change leaves the display name alone');
update auth.users set raw_user_meta_data = '{"display_name":"Someone Else"}'
 where id = 'cccccccc-0000-0000-0000-000000000001';
select results_eq(
  $$select email, display_name from public.profiles where id = 'cccccccc-0000-0000-0000-000000000001'$$,
  $$values ('ana.ruiz@example.test', 'Ana Ruiz')$$,
  'later metadata changes do not rewrite the profile');
delete from auth.users where id = 'cccccccc-0000-0000-0000-000000000006';
select is_empty(
  $$select from public.profiles where id = 'cccccccc-0000-0000-0000-000000000006'$$,
  'deleting the auth user deletes the profile');

select * from finish();
rollback;
