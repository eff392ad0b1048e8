-- Google Calendar, push (sql/rules/google/channels.sql): who may call what, the claim of a
-- channel to open (its token handed out once, kept as sha256) and its lease, a notification
-- checked (unknown channel, wrong token, wrong resource, stopped), a change making the sync due,
-- renewal before expiry replacing and stopping the old channel, a calendar no longer watched,
-- a disconnect, a failed watch backing off. Over HTTP: tests/sync/gcal/test_push.py.
--
-- Ids: mentor 1 bbbbbbbb-...-000000000001.
begin;
set search_path = public, extensions;
select plan(27);

select tests.create_rls_world();
select tests.freeze_clock('2027-01-04 06:00+00');
create temp table ch (label text primary key, id uuid, token text);
grant all on ch to public;

-- === privileges ===
select function_privs_are('public', 'claim_calendar_channels', array['text', 'text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user claims a channel');
select function_privs_are('public', 'google_push', array['text', 'text', 'text', 'text', 'text'], 'anon', array[]::text[],
  'anon cannot push (the services can)');
select function_privs_are('public', 'google_push', array['text', 'text', 'text', 'text', 'text'], 'authenticated', array[]::text[],
  'nor can a signed-in user');

-- === connected: a channel to open for the busy (and receiving) primary calendar ===
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001',
    encode(convert_to(repeat('sealed-1', 6), 'UTF8'), 'base64'), '1', '["https://www.googleapis.com/auth/calendar.events"]',
    '[{"id": "m1@example.com", "summary": "Mentor One", "primary": true, "accessRole": "owner", "timeZone": "Europe/Berlin"}]')),
  1, 'mentor 1 connects');
insert into ch select 'first', channel_id, token from public.claim_calendar_channels('w1', '500', '60')
 where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' and action = 'open' and calendar_id = 'm1@example.com';
select is((select count(*)::int from ch where token ~ '^[0-9a-f]{64}$'), 1, 'w1 claims one channel to open, with a 64-hex token');
select is((select count(*)::int from public.claim_calendar_channels('w2', '500', '60')
            where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'), 0, 'w2 gets nothing while w1 holds it');
select tests.clear_authentication();
select is((select token_sha256 = sha256(convert_to((select token from ch where label = 'first'), 'UTF8'))
             from private.calendar_channels where id = (select id from ch where label = 'first')),
  true, 'only the token''s sha256 is stored');
select tests.authenticate_as_service_role();

-- === notifications checked ===
select is((select sync_due from public.google_push((select id::text from ch where label = 'first'), (select token from ch where label = 'first'),
    'res-1', 'sync', '1')), false, 'the sync message (channel still opening) is acknowledged, nothing due');
select is(tests.refusal($$select * from public.google_push((select id::text from ch where label = 'first'), 'wrong', 'res-1', 'exists', '2')$$),
  'PT403: X-Goog-Channel-Token does not match the channel''s token', 'a wrong token is refused');
select is(tests.refusal($$select * from public.google_push('0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b', 'x', 'res-1', 'exists', '2')$$),
  'PT404: no watch channel has the id in X-Goog-Channel-ID', 'an unknown channel is refused');
select is(tests.refusal($$select * from public.google_push('not a uuid', 'x', 'res-1', 'exists', '2')$$),
  'PT404: no watch channel has the id in X-Goog-Channel-ID', 'a channel id that is no UUID is unknown too (not echoed)');

-- === opened: live, and the sync due at once (a first channel) ===
select tests.clear_authentication();
update private.calendar_sync_state set next_sync_at = '2027-01-04 07:00+00' where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001';
select tests.authenticate_as_service_role();
select is((select expiry from public.calendar_channel_opened((select id::text from ch where label = 'first'), 'w1', 'res-1', '2027-01-11T06:00:00Z')),
  '2027-01-11 06:00+00'::timestamptz, 'w1 reports it opened');
select tests.clear_authentication();
select is((select next_sync_at from private.calendar_sync_state where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  '2027-01-04 06:00+00'::timestamptz, 'a first channel makes the sync due now');
select is(private.calendar_next_sync_in('bbbbbbbb-0000-0000-0000-000000000001'), 3600,
  'with every busy calendar watched, the safety-net interval');
update private.calendar_sync_state set next_sync_at = '2027-01-04 07:00+00' where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001';
select tests.authenticate_as_service_role();
select is(tests.refusal($$select * from public.google_push((select id::text from ch where label = 'first'), (select token from ch where label = 'first'), 'res-other', 'exists', '2')$$),
  'PT403: X-Goog-Resource-ID is not the resource the channel watches', 'another resource id is refused');
select is((select sync_due from public.google_push((select id::text from ch where label = 'first'), (select token from ch where label = 'first'),
    'res-1', 'exists', '2')), true, 'a change is taken');
select tests.clear_authentication();
select is((select next_sync_at from private.calendar_sync_state where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  '2027-01-04 06:00+00'::timestamptz, 'and makes the sync due now');

-- === renewal a day before expiry; the old channel stopped ===
select tests.freeze_clock('2027-01-10 05:59+00');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.claim_calendar_channels('w1', '500', '60') where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  0, 'a day and a minute before expiry: nothing to renew');
select tests.freeze_clock('2027-01-10 06:01+00');
insert into ch select 'second', channel_id, token from public.claim_calendar_channels('w1', '500', '60')
 where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' and action = 'open';
select is((select stop_after from public.calendar_channel_opened((select id::text from ch where label = 'second'), 'w1', 'res-1', '2027-01-17T06:01:00Z')),
  null, 'within a day of expiry a new channel is opened');
select is((select resource_id from public.claim_calendar_channels('w1', '500', '60')
            where action = 'stop' and channel_id = (select id from ch where label = 'first')),
  'res-1', 'the replaced one is claimed to stop, with its resource id');
select isnt((select stopped_at from public.calendar_channel_stopped((select id::text from ch where label = 'first'), 'w1')),
  null, 'and reported stopped');
select is(tests.refusal($$select * from public.google_push((select id::text from ch where label = 'first'), (select token from ch where label = 'first'), 'res-1', 'exists', '3')$$),
  'PT410: the watch channel was stopped', 'a stopped channel is refused');

-- === a disconnect: the services stop the rest with the old grant ===
select tests.clear_authentication();
delete from private.google_credentials where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001';
select tests.authenticate_as_service_role();
select results_eq($$select channel_id from public.google_channels_to_stop('bbbbbbbb-0000-0000-0000-000000000001')$$,
  $$select id from ch where label = 'second'$$, 'the live channel is to stop with the removed grant');
select isnt((select stopped_at from public.google_channel_stopped((select id::text from ch where label = 'second'), null)),
  null, 'the services report it stopped');

-- === a failed watch backs off ===
select tests.clear_authentication();
select tests.freeze_clock('2027-01-10 07:00+00');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001',
    encode(convert_to(repeat('sealed-2', 6), 'UTF8'), 'base64'), '1', '["https://www.googleapis.com/auth/calendar.events"]',
    '[{"id": "m1@example.com", "summary": "Mentor One", "primary": true, "accessRole": "owner", "timeZone": "Europe/Berlin"}]')),
  1, 'mentor 1 connects again');
insert into ch select 'third', channel_id, token from public.claim_calendar_channels('w1', '500', '60')
 where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' and action = 'open';
select is((select retry_at > '2027-01-10 07:00+00' from public.calendar_channel_failed((select id::text from ch where label = 'third'), 'w1', 'watch answered 400')),
  true, 'a failed watch is given up with a back-off');
select is((select count(*)::int from public.claim_calendar_channels('w1', '500', '60') where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  0, 'and not claimed again before it');

select * from finish();
rollback;
