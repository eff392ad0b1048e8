-- Google Calendar, session events out and changes made in Google (sql/rules/google/events.sql,
-- changes.sql): who may call what, the event id, connecting queues the future sessions, the
-- per-session claim (one in flight, the current state, a dead worker's lease), done and failed
-- (back-off, give up), a mentor without a receiving calendar skipped, a deletion in Google
-- flagged (not when a job is pending) and resolved. Over HTTP: tests/sync/gcal/test_events.py,
-- test_changes.py.
--
-- Ids: mentor 1 bbbbbbbb-...-000000000001, student A cccccccc-...-00000000000a, their session
-- 55555555-...-0000000000a1 on 2030-01-07 10:00 UTC.
begin;
set search_path = public, extensions;
select plan(26);

select tests.create_rls_world();
select tests.freeze_clock('2029-12-31 06:00+00');

-- === privileges ===
select function_privs_are('public', 'claim_calendar_jobs', array['text', 'text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user claims calendar jobs');
select function_privs_are('public', 'calendar_job_done', array['text', 'text', 'jsonb'], 'authenticated', array[]::text[],
  'no signed-in user reports one');
select function_privs_are('public', 'resolve_calendar_change', array['text', 'text'], 'anon', array[]::text[],
  'anon resolves nothing');

-- === the event id: the session id in base32hex ===
select is(private.google_event_id('00000000-0000-0000-0000-000000000000'), repeat('0', 26), 'all zero bits: 26 zeros');
select is(private.google_event_id('55555555-0000-0000-0000-0000000000a1'), 'alalal800000000000000000k4',
  'the same as sync.gcal.events.event_id');

-- === connecting queues the mentor's future sessions ===
-- (the jobs other tests left in this database are parked, as the transaction's)
update private.calendar_jobs set processed_at = now(), outcome = 'skipped' where processed_at is null;
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.google_connected('bbbbbbbb-0000-0000-0000-000000000001',
    encode(convert_to(repeat('sealed-1', 6), 'UTF8'), 'base64'), '1', '["https://www.googleapis.com/auth/calendar.events"]',
    '[{"id": "m1@example.com", "summary": "Mentor One", "primary": true, "accessRole": "owner", "timeZone": "Europe/Berlin"}]')),
  1, 'mentor 1 connects');
select tests.clear_authentication();
select is((select count(*)::int from private.calendar_jobs
            where session_id = '55555555-0000-0000-0000-0000000000a1' and processed_at is null and action = 'upsert'),
  1, 'their future session is queued once');
select tests.authenticate_as_service_role();

-- === the claim: one per session in flight, from its current state ===
select is((select action || ' ' || calendar_id || ' ' || event_id from public.claim_calendar_jobs('w1', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'),
  'upsert m1@example.com alalal800000000000000000k4', 'w1 claims the session: an upsert into the receiving calendar');
select tests.clear_authentication();
insert into private.calendar_jobs (session_id, mentor_id, action)
values ('55555555-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001', 'delete');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.claim_calendar_jobs('w2', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'), 0, 'w2 claims nothing of it while w1 holds it');
select is(tests.refusal($$select public.calendar_job_done('55555555-0000-0000-0000-0000000000a1', 'w2', null)$$),
  'PT409: no calendar job of session 55555555-0000-0000-0000-0000000000a1 is claimed by "w2"', 'w2 cannot report it');
select is(tests.refusal($$select public.calendar_job_done('55555555-0000-0000-0000-0000000000a1', 'w1', '[1]')$$),
  'PT422: written must be an object or null', 'written is an object or null');
select is(public.calendar_job_done('55555555-0000-0000-0000-0000000000a1', 'w1',
    '{"calendar_id": "m1@example.com", "event_id": "alalal800000000000000000k4", "starts_at": "2030-01-07T10:00:00Z", "ends_at": "2030-01-07T11:00:00Z", "etag": "\"1\""}'),
  1, 'w1 finishes its one job');
select tests.clear_authentication();
select is((select count(*)::int from private.calendar_jobs
            where session_id = '55555555-0000-0000-0000-0000000000a1' and processed_at is null), 1,
  'the job queued meanwhile is still pending');
select tests.authenticate_as_service_role();
select is((select action || ' ' || written_calendar_id from public.claim_calendar_jobs('w2', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'),
  'upsert m1@example.com', 'w2 claims it now, from the current state (still scheduled: upsert, whatever the job said)');

-- === a dead worker's lease, failures and the back-off ===
select tests.freeze_clock('2029-12-31 06:02+00');
select is((select count(*)::int from public.claim_calendar_jobs('w3', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'), 1, 'w2 died: after its lease w3 takes the session');
select is((select outcome from public.calendar_job_failed('55555555-0000-0000-0000-0000000000a1', 'w3', 'a timeout', 'false')),
  null, 'a failure is retried');
select is((select count(*)::int from public.claim_calendar_jobs('w3', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'), 0, 'not before its back-off');
select tests.clear_authentication();
update public.platform_settings set calendar_job_max_attempts = 3;
select tests.freeze_clock('2029-12-31 08:00+00');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.claim_calendar_jobs('w3', '10', '60')
            where session_id = '55555555-0000-0000-0000-0000000000a1'), 1, 'due again after it');
select is((select outcome from public.calendar_job_failed('55555555-0000-0000-0000-0000000000a1', 'w3', 'a timeout', 'false')),
  'gave_up', 'given up after calendar_job_max_attempts');

-- === changes made in Google ===
select tests.clear_authentication();
insert into private.calendar_jobs (session_id, mentor_id, action)
values ('55555555-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001', 'upsert');
select is(private.calendar_changes_seen('bbbbbbbb-0000-0000-0000-000000000001', 'm1@example.com', false, null, null, '[]',
    '["alalal800000000000000000k4"]', '2029-12-31 08:00+00'), 0, 'deleted in Google while a job is pending: not flagged');
update private.calendar_jobs set processed_at = now(), outcome = 'done' where processed_at is null;
select is(private.calendar_changes_seen('bbbbbbbb-0000-0000-0000-000000000001', 'm1@example.com', false, null, null,
    '[{"event_id": "alalal800000000000000000k4", "starts_at": "2030-01-07T12:00:00Z", "ends_at": "2030-01-07T13:00:00Z"}]',
    '[]', '2029-12-31 08:00+00'), 1, 'moved in Google, no job pending: flagged');
select is((select count(*)::int from public.notifications
            where kind = 'calendar_event_changed' and recipient_id = 'bbbbbbbb-0000-0000-0000-000000000001'
              and session_id = '55555555-0000-0000-0000-0000000000a1'), 1, 'the mentor is told (email)');
select tests.authenticate_as('rls_a');
select is(tests.refusal($$select public.resolve_calendar_change('55555555-0000-0000-0000-0000000000a1', 'cancel')$$),
  'PT403: this session is not yours', 'the student cannot resolve it');
select is((select count(*)::int from public.calendar_event_changes), 0, 'nor see the flag');
select tests.authenticate_as('rls_m1');
select is((select resolution from public.resolve_calendar_change('55555555-0000-0000-0000-0000000000a1', 'restore')),
  'restore', 'the mentor restores the event');
select tests.clear_authentication();
select is((select count(*)::int from private.calendar_jobs
            where session_id = '55555555-0000-0000-0000-0000000000a1' and processed_at is null), 1,
  'an upsert is queued to put it back');

select * from finish();
rollback;
