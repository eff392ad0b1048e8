-- The tests.* helpers themselves (supabase/tests/helpers/users.sql): users by label with stable
-- ids, acting as one of them as PostgREST would, and the frozen clock.
begin;
set search_path = public, extensions;
select plan(16);

-- === tests.create_user / tests.get_user ===
select is(tests.create_user('helpers_s'), md5('tests.user:helpers_s')::uuid,
  'create_user: the id is derived from the label');
select is(tests.create_user('helpers_s'), md5('tests.user:helpers_s')::uuid,
  'create_user: a second call with the same label returns the same user');
select is((select count(*)::integer from auth.users where email = 'helpers_s@tap.test'), 1,
  'create_user: one auth user per label, <label>@tap.test');
select results_eq(
  $$select role::text, display_name, time_zone from public.profiles where id = tests.get_user('helpers_s')$$,
  $$values ('student', 'helpers_s', 'UTC')$$,
  'create_user: a student profile named after the label, in UTC, by default');
select is(tests.create_user('helpers_m', 'mentor', 'Europe/Berlin', 'bbbbbbbb-0000-0000-0000-0000000000e1', 'Mentor E'),
  'bbbbbbbb-0000-0000-0000-0000000000e1'::uuid, 'create_user: an explicit id is kept');
select results_eq(
  $$select role::text, display_name, time_zone from public.profiles where id = 'bbbbbbbb-0000-0000-0000-0000000000e1'$$,
  $$values ('mentor', 'Mentor E', 'Europe/Berlin')$$,
  'create_user: role, display name and time zone as given');
select is(tests.get_user('helpers_m'), 'bbbbbbbb-0000-0000-0000-0000000000e1'::uuid,
  'get_user: the id of a labelled user');
select throws_ok($$select tests.get_user('helpers_nobody')$$, 'P0001',
  'tests.get_user: no user labelled helpers_nobody', 'get_user: an unknown label fails');

-- === tests.authenticate_as / authenticate_as_anon / authenticate_as_service_role / clear_authentication ===
select tests.authenticate_as('helpers_s');
select is(current_user::text, 'authenticated', 'authenticate_as: runs as the authenticated role');
select is(auth.uid(), md5('tests.user:helpers_s')::uuid, 'authenticate_as: auth.uid() is the user');
select is(auth.jwt() - 'sub',
  '{"role":"authenticated","aud":"authenticated","email":"helpers_s@tap.test"}'::jsonb,
  'authenticate_as: the claims PostgREST would set (role, aud, email)');
select tests.authenticate_as('helpers_m');
select is(auth.uid(), 'bbbbbbbb-0000-0000-0000-0000000000e1'::uuid,
  'authenticate_as: switching from one user to another works');
select tests.authenticate_as_anon();
select results_eq($$select current_user::text collate "default", auth.role(), auth.uid()$$,
  $$values ('anon', 'anon', null::uuid)$$, 'authenticate_as_anon: anon with an anon token');
select tests.authenticate_as_service_role();
select results_eq($$select current_user::text collate "default", auth.role()$$,
  $$values ('service_role', 'service_role')$$, 'authenticate_as_service_role: the service role');
select tests.clear_authentication();
select results_eq($$select current_user = session_user, auth.jwt()$$,
  $$values (true, null::jsonb)$$, 'clear_authentication: back to the session''s role, no claims');

-- === tests.freeze_clock ===
select tests.freeze_clock('2030-03-31 01:30+00');
select is(private.clock_now(), '2030-03-31 01:30+00'::timestamptz,
  'freeze_clock: clock_now() is the frozen instant until the transaction ends');

select * from finish();
rollback;
