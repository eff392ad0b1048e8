-- The outbox writers (sql/rules/notify.sql): private.notify_many queues every message to every
-- recipient on every channel they have, in one insert, idempotently; private.notify is its
-- one-message form; private.queue_session_messages queues a session's change message with the
-- reminders still ahead of it. The clock is frozen with the transaction-local mentorships.now.
--
-- Ids used below:
--   mentor M  bbbbbbbb-0000-0000-0000-0000000000f1 (no Discord)
--   student S cccccccc-0000-0000-0000-0000000000f1 (Discord linked)
--   session   55555555-0000-0000-0000-0000000000f1 (a made-up id: the outbox carries no foreign keys)
begin;
set search_path = public, extensions;
select plan(21);

select tests.freeze_clock('2030-05-01 12:00+00');
select tests.create_user('outbox_m', id => 'bbbbbbbb-0000-0000-0000-0000000000f1');
select tests.create_user('outbox_s', id => 'cccccccc-0000-0000-0000-0000000000f1');
update public.profiles set discord_user_id = '990000000000000001'
 where id = 'cccccccc-0000-0000-0000-0000000000f1';

-- === notify_many ===
select is(
  private.notify_many(array['cccccccc-0000-0000-0000-0000000000f1', 'bbbbbbbb-0000-0000-0000-0000000000f1', null]::uuid[],
                      array['session_booked', 'session_reminder_1h']::public.notification_kind[],
                      array['tap-outbox:booked', 'tap-outbox:1h'],
                      array[null, '2030-05-03 08:00+00']::timestamptz[],
                      '{"x": 1}', '55555555-0000-0000-0000-0000000000f1'),
  6, 'two messages to two people: email each, Discord for the one who linked it; a null recipient is skipped');
select results_eq(
  $$select kind::text, channel::text, recipient_id, send_after, dedupe_key
      from public.notifications where dedupe_key like 'tap-outbox:%' order by 1, 2, 3$$,
  $$values
    ('session_booked', 'discord', 'cccccccc-0000-0000-0000-0000000000f1'::uuid, '2030-05-01 12:00+00'::timestamptz,
     'tap-outbox:booked:cccccccc-0000-0000-0000-0000000000f1:discord'),
    ('session_booked', 'email', 'bbbbbbbb-0000-0000-0000-0000000000f1'::uuid, '2030-05-01 12:00+00'::timestamptz,
     'tap-outbox:booked:bbbbbbbb-0000-0000-0000-0000000000f1:email'),
    ('session_booked', 'email', 'cccccccc-0000-0000-0000-0000000000f1'::uuid, '2030-05-01 12:00+00'::timestamptz,
     'tap-outbox:booked:cccccccc-0000-0000-0000-0000000000f1:email'),
    ('session_reminder_1h', 'discord', 'cccccccc-0000-0000-0000-0000000000f1'::uuid, '2030-05-03 08:00+00'::timestamptz,
     'tap-outbox:1h:cccccccc-0000-0000-0000-0000000000f1:discord'),
    ('session_reminder_1h', 'email', 'bbbbbbbb-0000-0000-0000-0000000000f1'::uuid, '2030-05-03 08:00+00'::timestamptz,
     'tap-outbox:1h:bbbbbbbb-0000-0000-0000-0000000000f1:email'),
    ('session_reminder_1h', 'email', 'cccccccc-0000-0000-0000-0000000000f1'::uuid, '2030-05-03 08:00+00'::timestamptz,
     'tap-outbox:1h:cccccccc-0000-0000-0000-0000000000f1:email')$$,
  'a message with no send_after is due now (the business clock); the key is event, recipient, channel');
select is(
  (select count(distinct payload::text) || ':' || min(payload ->> 'x') || ':' || count(distinct session_id)
     from public.notifications where dedupe_key like 'tap-outbox:%'),
  '1:1:1', 'every row carries the payload and the session');
select is(
  private.notify_many(array['cccccccc-0000-0000-0000-0000000000f1', 'bbbbbbbb-0000-0000-0000-0000000000f1']::uuid[],
                      array['session_booked', 'session_reminder_1h']::public.notification_kind[],
                      array['tap-outbox:booked', 'tap-outbox:1h'],
                      array[null, '2030-05-03 08:00+00']::timestamptz[],
                      '{"x": 2}', '55555555-0000-0000-0000-0000000000f1'),
  0, 'the same events again queue nothing');
select is((select count(*)::integer from public.notifications where dedupe_key like 'tap-outbox:%' and payload ->> 'x' = '2'),
  0, 'and change nothing');
select is(
  private.notify_many(array['bbbbbbbb-0000-0000-0000-0000000000f1']::uuid[],
                      array[]::public.notification_kind[], array[]::text[], array[]::timestamptz[]),
  0, 'no messages: nothing queued');
select is(
  private.notify_many(array['dddddddd-0000-0000-0000-0000000000f1', 'bbbbbbbb-0000-0000-0000-0000000000f1']::uuid[],
                      array['session_booked']::public.notification_kind[], array['tap-outbox:nobody'],
                      array[null]::timestamptz[]),
  1, 'a recipient who is not a person is skipped; the others still get it');
select is((select count(*)::integer from public.notifications where recipient_id = 'dddddddd-0000-0000-0000-0000000000f1'),
  0, 'nothing queued for nobody');

-- === notify (one message) ===
select is(
  private.notify(array['cccccccc-0000-0000-0000-0000000000f1']::uuid[], 'one_session_left', 'tap-outbox:one-left',
                 '{"remaining_sessions": 1}'),
  2, 'one message: email and Discord');
select is(
  private.notify(array['cccccccc-0000-0000-0000-0000000000f1']::uuid[], 'one_session_left', 'tap-outbox:one-left'),
  0, 'and only once');

-- === queue_session_messages ===
create temporary table tap_session on commit drop as
select ('55555555-0000-0000-0000-0000000000f2', null, 'bbbbbbbb-0000-0000-0000-0000000000f1',
        'cccccccc-0000-0000-0000-0000000000f1', 'scheduled', '2030-05-03 09:00+00', '2030-05-03 10:00+00',
        '2030-05-03 10:00+00', 'tapchannel', null, 2, null, null, null, null, null, null, now(), now()
       )::public.sessions as s;
select is(
  private.queue_session_messages((select s from tap_session), '{"y": 1}', 'session_rescheduled', 'tap-outbox:s2:moved'),
  9, 'change message and both reminders, to the student (email, Discord) and the mentor (email)');
select results_eq(
  $$select kind::text, min(send_after), count(*)::integer, min(dedupe_key)
      from public.notifications where session_id = '55555555-0000-0000-0000-0000000000f2' group by 1 order by 2$$,
  $$values
    ('session_rescheduled', '2030-05-01 12:00+00'::timestamptz, 3, 'tap-outbox:s2:moved:bbbbbbbb-0000-0000-0000-0000000000f1:email'),
    ('session_reminder_24h', '2030-05-02 09:00+00'::timestamptz, 3, 'session:55555555-0000-0000-0000-0000000000f2:v2:session_reminder_24h:bbbbbbbb-0000-0000-0000-0000000000f1:email'),
    ('session_reminder_1h', '2030-05-03 08:00+00'::timestamptz, 3, 'session:55555555-0000-0000-0000-0000000000f2:v2:session_reminder_1h:bbbbbbbb-0000-0000-0000-0000000000f1:email')$$,
  'reminders 24 h and 1 h before the start, keyed by the reschedule count');

-- 23 h ahead: the 24 h reminder's time has passed
update tap_session set s.id = '55555555-0000-0000-0000-0000000000f3', s.starts_at = '2030-05-02 11:00+00';
select is(
  private.queue_session_messages((select s from tap_session), '{}', 'session_booked', 'tap-outbox:s3:booked'),
  6, '23 h ahead: the change message and the 1 h reminder only');
select is(
  (select array_agg(distinct kind::text order by kind::text) from public.notifications
    where session_id = '55555555-0000-0000-0000-0000000000f3'),
  array['session_booked', 'session_reminder_1h'], 'no 24 h reminder');

-- exactly 1 h ahead: the 1 h reminder is due this instant and still goes out
update tap_session set s.id = '55555555-0000-0000-0000-0000000000f4', s.starts_at = '2030-05-01 13:00+00';
select is(
  private.queue_session_messages((select s from tap_session), '{}', 'session_booked', 'tap-outbox:s4:booked'),
  6, 'exactly 1 h ahead: the 1 h reminder is due now and still queued');
select is(
  (select min(send_after) from public.notifications
    where session_id = '55555555-0000-0000-0000-0000000000f4' and kind = 'session_reminder_1h'),
  '2030-05-01 12:00+00'::timestamptz, 'due this instant');

-- 59 min ahead: no reminder at all
update tap_session set s.id = '55555555-0000-0000-0000-0000000000f5', s.starts_at = '2030-05-01 12:59+00';
select is(
  private.queue_session_messages((select s from tap_session), '{}', 'session_booked', 'tap-outbox:s5:booked'),
  3, '59 min ahead: the change message only');

-- === a person's messages go with them ===
select is((select count(*)::integer from public.notifications where recipient_id = 'cccccccc-0000-0000-0000-0000000000f1'
             and dedupe_key like 'tap-outbox:%'), 14, 'the student has messages');
delete from auth.users where id = 'cccccccc-0000-0000-0000-0000000000f1';
select is((select count(*)::integer from public.notifications where recipient_id = 'cccccccc-0000-0000-0000-0000000000f1'),
  0, 'deleting the person (auth.users, then profiles) deletes their messages');
select isnt((select count(*)::integer from public.notifications where recipient_id = 'bbbbbbbb-0000-0000-0000-0000000000f1'),
  0, 'and nobody else''s');

-- === who may call them ===
select ok(
  not has_function_privilege('authenticated', 'private.notify_many(uuid[], public.notification_kind[], text[], timestamptz[], jsonb, uuid, uuid)', 'execute')
  and not has_function_privilege('anon', 'private.queue_session_messages(public.sessions, jsonb, public.notification_kind, text)', 'execute')
  and not has_function_privilege('authenticated', 'private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid)', 'execute'),
  'clients cannot write the outbox through these functions');

select * from finish();
rollback;
