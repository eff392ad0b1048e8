-- Google Calendar, connecting (sql/rules/google/connect.sql): who may call what, a consent state
-- good once, the stored grant and calendar list, the mentor's choice, disconnect and rotation.
-- Over HTTP: tests/sync/gcal/.
--
-- Ids used below: mentor 1 bbbbbbbb-...-000000000001, mentor 2 bbbbbbbb-...-000000000002,
-- student A cccccccc-...-00000000000a.
begin;
set search_path = public, extensions;
select plan(27);

select tests.create_rls_world();

-- === privileges ===
select function_privs_are('public', 'begin_google_connect', array[]::text[], 'anon', array[]::text[],
  'anon starts no connection');
select function_privs_are('public', 'claim_google_state', array['text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user claims a state');
select function_privs_are('public', 'google_connected', array['text', 'text', 'text', 'jsonb', 'jsonb'], 'authenticated', array[]::text[],
  'no signed-in user stores a grant');
select function_privs_are('public', 'google_credentials_of', array['text'], 'authenticated', array[]::text[],
  'no signed-in user reads a sealed grant');
select function_privs_are('public', 'google_tokens_to_reseal', array['text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user reads sealed grants to rotate');
select function_privs_are('public', 'choose_google_calendars', array['jsonb', 'text'], 'authenticated', array['EXECUTE'],
  'a signed-in mentor chooses calendars');

-- === start: mentors only ===
select tests.authenticate_as('rls_a');
select is(tests.refusal($$select * from public.begin_google_connect()$$),
  'PT403: only mentors connect a Google Calendar', 'a student cannot start');
select tests.clear_authentication();
select tests.authenticate_as('rls_m1');
create temporary table started on commit drop as select * from public.begin_google_connect();
select is((select mentor_id from started), 'bbbbbbbb-0000-0000-0000-000000000001'::uuid, 'mentor 1 starts');
select is((select length(nonce) from started), 64, 'the nonce is 64 hex digits');
select tests.clear_authentication();
grant select on started to service_role;

-- === callback: a state is good once, for its mentor ===
select tests.authenticate_as_service_role();
select is(tests.refusal(format($$select public.claim_google_state(%L, 'bbbbbbbb-0000-0000-0000-000000000002')$$, (select nonce from started))),
  'PT400: state: it was already used, or was never issued to this mentor', 'another mentor''s state is refused');
select is(public.claim_google_state((select nonce from started), 'bbbbbbbb-0000-0000-0000-000000000001'),
  'bbbbbbbb-0000-0000-0000-000000000001'::uuid, 'the mentor''s state is taken');
select is(tests.refusal(format($$select public.claim_google_state(%L, 'bbbbbbbb-0000-0000-0000-000000000001')$$, (select nonce from started))),
  'PT400: state: it was already used, or was never issued to this mentor', 'a replayed state is refused');

select is((select count(*)::int from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001',
    encode(convert_to(repeat('sealed-1', 6), 'UTF8'), 'base64'), '1', '["https://www.googleapis.com/auth/calendar.events"]',
    '[{"id": "m1@example.com", "summary": "Mentor One", "primary": true, "accessRole": "owner", "timeZone": "Europe/Berlin"},
      {"id": "holidays@group.v.calendar.google.com", "summary": "Holidays", "accessRole": "reader"}]')),
  2, 'the grant and two calendars are stored');
select results_eq($$select calendar_id, counts_as_busy, receives_events from public.mentor_calendars where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' order by calendar_id$$,
  $$values ('holidays@group.v.calendar.google.com', false, false), ('m1@example.com', true, true)$$,
  'by default the primary calendar counts as busy and receives the events');
select tests.clear_authentication();
select is((select calendar_id from private.google_credentials where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  'm1@example.com', 'the credentials name the events calendar');
select tests.authenticate_as_service_role();
select is(tests.refusal($$select * from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001', 'not base64!', '1', '[]', '[]')$$),
  'PT422: refresh_token_sealed is missing or not base64', 'a malformed sealed token is refused');
select tests.clear_authentication();

-- === the mentor's choice ===
select tests.authenticate_as('rls_m1');
select is((select count(*)::int from public.mentor_calendars), 2, 'mentor 1 reads their calendars');
select is((select count(*)::int from public.choose_google_calendars('["m1@example.com", "holidays@group.v.calendar.google.com"]', 'm1@example.com') where counts_as_busy),
  2, 'mentor 1 counts both as busy');
select is(tests.refusal($$select * from public.choose_google_calendars('["other@example.com"]', 'm1@example.com')$$),
  'PT422: busy_calendar_ids: "other@example.com" is not one of your calendars', 'an unknown calendar is refused');
select is(tests.refusal($$select * from public.choose_google_calendars('[]', 'holidays@group.v.calendar.google.com')$$),
  'PT422: events_calendar_id: you cannot write to "holidays@group.v.calendar.google.com"', 'a read-only calendar receives no events');
select is(tests.refusal($$select * from public.choose_google_calendars('"m1@example.com"', 'm1@example.com')$$),
  'PT422: busy_calendar_ids must be an array of calendar ids', 'the field is named');
select throws_ok($$update public.mentor_calendars set receives_events = false$$, '42501', null,
  'no direct writes: the choice goes through the RPC');
select tests.clear_authentication();

select tests.authenticate_as('rls_m2');
select is((select count(*)::int from public.mentor_calendars), 0, 'mentor 2 sees none of mentor 1''s calendars');
select is(tests.refusal($$select * from public.choose_google_calendars('[]', 'm1@example.com')$$),
  'PT409: no Google Calendar is connected', 'mentor 2 chooses nothing of mentor 1''s');
select tests.clear_authentication();

-- === disconnect ===
select tests.authenticate_as('rls_m1');
select isnt(public.disconnect_google(), null, 'mentor 1 disconnects: a revocation is queued');
select tests.clear_authentication();
select results_eq($$select (select count(*)::int from private.google_credentials where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
                          (select count(*)::int from public.mentor_calendars where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
                          (select count(*)::int from private.google_revocations where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001')$$,
  $$values (0, 0, 1)$$, 'the grant moved to the revocations; the calendars are gone');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.google_tokens_to_reseal('2', '100') where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'), 1, 'the queued revocation is resealed too');
select tests.clear_authentication();

select * from finish();
rollback;
