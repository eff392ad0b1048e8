-- The auth shim's helpers read the JWT claims PostgREST puts in request.jwt.claims; a profile
-- is created for every new auth user (role student, whatever the sign-up metadata says) and
-- follows its email; private.clock_now() is the one clock rules read, and tests freeze it.
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
select plan(33);

-- === auth helpers read request.jwt.claims ===
select set_config('request.jwt.claims', '', true);
select is(auth.uid(), null, 'no claims: auth.uid() is null');
select is(auth.role(), null, 'no claims: auth.role() is null');
select is(auth.jwt(), null, 'no claims: auth.jwt() is null');

select set_config('request.jwt.claims',
  '{"sub":"cccccccc-0000-0000-0000-000000000001","role":"authenticated","email":"ana@example.test","aal":"aal1"}', true);
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000001'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'ana@example.test', 'auth.email() is the email claim');
select is(auth.jwt(),
  '{"sub":"cccccccc-0000-0000-0000-000000000001","role":"authenticated","email":"ana@example.test","aal":"aal1"}'::jsonb,
  'auth.jwt() is the whole claims object');
select is(auth.jwt() ->> 'aal', 'aal1', 'auth.jwt() carries the other claims');

select set_config('request.jwt.claim.sub', 'cccccccc-0000-0000-0000-000000000002', true);
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000002'::uuid,
  'the legacy request.jwt.claim.sub setting wins over request.jwt.claims (as in Supabase)');
select set_config('request.jwt.claim.sub', '', true);

-- === authenticated and anon ===
set local role authenticated;
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000001'::uuid, 'authenticated may call auth.uid()');
select tests.authenticate_as_anon();
select is(auth.role(), 'anon', 'anon may call auth.role()');
select is(auth.uid(), null, 'an anon token has no auth.uid()');
select tests.clear_authentication();

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

-- === private.clock_now() ===
update private.clock set frozen_at = null;
select set_config('mentorships.now', '', true);
select is(private.clock_now(), now(), 'clock not frozen: clock_now() is now()');

update private.clock set frozen_at = '2030-03-10 09:00+00';
select is(private.clock_now(), '2030-03-10 09:00+00'::timestamptz,
  'private.clock.frozen_at set: clock_now() is the frozen instant');

select set_config('mentorships.now', '2031-06-01 12:00+00', true);
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz,
  'the transaction-local mentorships.now wins over private.clock');

update private.clock set frozen_at = null;
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz,
  'mentorships.now wins over now() too');

select set_config('mentorships.now', '', true);
select is(private.clock_now(), now(), 'with both cleared, clock_now() is now() again');

select tests.freeze_clock('2031-06-01 12:00+00');
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz, 'tests.freeze_clock() sets the transaction-local mentorships.now');
select tests.authenticate_as_service_role();
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz, 'the service role (workers) may read the clock');
select tests.clear_authentication();
set local role authenticated;
select throws_ok($$select private.clock_now()$$, '42501', 'permission denied for function clock_now',
  'authenticated users never read the clock directly (the RPCs do, as definers)');
reset role;
set local role anon;
select throws_ok($$select private.clock_now()$$, '42501', 'permission denied for function clock_now',
  'anon may not call private.clock_now()');
reset role;

select * from finish();
rollback;
