-- Google Calendar, busy times in (sql/rules/google/busy.sql): who may call what, a connected
-- mentor closed until synced, the claim and its lease, a sync replacing the intervals (full and
-- incremental), stale again after the setting, invalid_grant. Over HTTP: tests/sync/gcal/test_busy.py.
--
-- Ids: mentor 1 bbbbbbbb-...-000000000001, student A cccccccc-...-00000000000a.
begin;
set search_path = public, extensions;
select plan(17);

select tests.create_rls_world();
select tests.freeze_clock('2027-01-04 06:00+00');

-- === privileges ===
select function_privs_are('public', 'claim_calendar_syncs', array['text', 'text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user claims a sync');
select function_privs_are('public', 'calendar_synced', array['text', 'text', 'jsonb'], 'authenticated', array[]::text[],
  'no signed-in user reports one');
select function_privs_are('public', 'calendar_sync_status', array[]::text[], 'anon', array[]::text[],
  'anon sees no sync');

-- === connected: closed until the first sync ===
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001',
    encode(convert_to(repeat('sealed-1', 6), 'UTF8'), 'base64'), '1', '["https://www.googleapis.com/auth/calendar.events"]',
    '[{"id": "m1@example.com", "summary": "Mentor One", "primary": true, "accessRole": "owner", "timeZone": "Europe/Berlin"}]')),
  1, 'mentor 1 connects');
select is(private.calendar_closed('bbbbbbbb-0000-0000-0000-000000000001', '2027-01-04 06:00+00'),
  'the mentor''s Google Calendar has not been synced yet, so their busy times are unknown', 'closed until the first sync');
select is(private.calendar_closed('bbbbbbbb-0000-0000-0000-000000000002', '2027-01-04 06:00+00'), null,
  'a mentor without Google Calendar is never closed');

-- === the claim: one worker at a time ===
-- (the syncs of mentors other tests connected in this database are parked, as the transaction's)
select tests.clear_authentication();
update private.calendar_sync_state set next_sync_at = 'infinity' where mentor_id <> 'bbbbbbbb-0000-0000-0000-000000000001';
select tests.authenticate_as_service_role();
select is((select calendars -> 0 ->> 'calendar_id' from public.claim_calendar_syncs('w1', '10', '60')
            where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
  'm1@example.com', 'w1 claims mentor 1 with its busy calendar');
select is((select count(*)::int from public.claim_calendar_syncs('w2', '10', '60')
            where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'), 0, 'w2 does not while w1 holds it');
select is(tests.refusal($$select * from public.calendar_synced('bbbbbbbb-0000-0000-0000-000000000001', 'w2', '[]')$$),
  'PT409: the calendar sync of mentor bbbbbbbb-0000-0000-0000-000000000001 is not claimed by "w2"', 'w2 cannot report it');

-- === a full sync, then an incremental one ===
select is((select busy_intervals from public.calendar_synced('bbbbbbbb-0000-0000-0000-000000000001', 'w1',
    '[{"calendar_id": "m1@example.com", "sync_token": "t1", "full": true, "time_min": "2027-01-03T06:00:00Z", "time_max": "2027-04-04T06:00:00Z",
       "intervals": [{"event_id": "e1", "starts_at": "2027-01-05T10:00:00Z", "ends_at": "2027-01-05T11:00:00Z"},
                     {"event_id": "e2", "starts_at": "2027-01-05T13:00:00Z", "ends_at": "2027-01-05T14:00:00Z"}]}]')),
  2, 'a full list stores its two busy events');
select is(private.calendar_closed('bbbbbbbb-0000-0000-0000-000000000001', '2027-01-04 06:00+00'), null, 'open once synced');
select tests.freeze_clock('2027-01-04 06:10+00');
select is((select count(*)::int from public.claim_calendar_syncs('w1', '10', '60')
            where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' and calendars -> 0 ->> 'sync_token' = 't1'),
  1, 'the next claim carries the sync token');
select is((select busy_intervals from public.calendar_synced('bbbbbbbb-0000-0000-0000-000000000001', 'w1',
    '[{"calendar_id": "m1@example.com", "sync_token": "t2", "full": false, "changed_event_ids": ["e2", "e3"],
       "intervals": [{"event_id": "e3", "starts_at": "2027-01-05T15:00:00Z", "ends_at": "2027-01-05T16:00:00Z"}]}]')),
  2, 'an incremental list removes e2 and adds e3');
select tests.clear_authentication();
select results_eq($$select source_event_id from private.calendar_busy_intervals where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001' order by starts_at$$,
  $$values ('e1'), ('e3')$$, 'e1 untouched');
select tests.authenticate_as_service_role();

-- === stale after the setting; invalid_grant ===
select alike(private.calendar_closed('bbbbbbbb-0000-0000-0000-000000000001', '2027-01-04 08:11+00'),
  'the mentor''s Google Calendar was last synced at 2027-01-04 06:10 UTC, more than 120 minutes ago%', 'stale after 120 minutes');
select tests.freeze_clock('2027-01-04 06:20+00');
select is((select grant_revoked from public.calendar_sync_failed(
    (select mentor_id::text from public.claim_calendar_syncs('w1', '10', '60') where mentor_id = 'bbbbbbbb-0000-0000-0000-000000000001'),
    'w1', 'invalid_grant', 'true')), true, 'invalid_grant revokes');
select tests.clear_authentication();
select is((select count(*)::int from public.notifications where recipient_id = 'bbbbbbbb-0000-0000-0000-000000000001'
            and kind = 'calendar_disconnected'), 1, 'the mentor is told');

select * from finish();
rollback;
