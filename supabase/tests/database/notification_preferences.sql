-- People choose which messages reach them (sql/rules/preferences.sql): which kinds may be turned
-- off (private.message_kind_optional), the queueing rule that honours a switch
-- (private.notify_many), the voiding of what was queued before, the service role's unsubscribe and
-- the listing a dashboard draws. Row-level security: rls_notification_preferences.sql.
--
-- Ids used below:
--   mentor M  bbbbbbbb-0000-0000-0000-0000000000e1 (no Discord)
--   student S cccccccc-0000-0000-0000-0000000000e1 (Discord linked)
--   session   55555555-0000-0000-0000-0000000000e1 (a made-up id: the outbox carries no foreign keys)
begin;
set search_path = public, extensions;
select plan(26);

select tests.freeze_clock('2030-05-01 12:00+00');
select tests.create_user('prefs_m', 'mentor', id => 'bbbbbbbb-0000-0000-0000-0000000000e1');
select tests.create_user('prefs_s', id => 'cccccccc-0000-0000-0000-0000000000e1');
update public.profiles set discord_user_id = '990000000000000011'
 where id = 'cccccccc-0000-0000-0000-0000000000e1';

-- === which kinds may be turned off: one list ===
select is(private.optional_message_kinds(),
  array['session_reminder_24h', 'session_reminder_1h', 'renewal_reminder', 'one_session_left']::public.notification_kind[],
  'reminders and renewal nudges may be turned off');
select is_empty($$select k from unnest(enum_range(null::public.notification_kind)) k
                   where private.message_kind_optional(k)
                     and k in ('pack_purchased', 'session_booked', 'session_rescheduled', 'session_canceled',
                               'refund_processed', 'payment_flagged', 'delivery_failed', 'grace_started',
                               'grace_warning', 'seat_released')$$,
  'purchases, session changes, refunds, the seat''s grace and release and the admins'' alerts may not');

-- === a person turns a kind off (as PostgREST would write it) ===
select tests.authenticate_as('prefs_s');
select lives_ok($$insert into public.notification_preferences (kind, channel) values ('session_reminder_1h', 'email')$$,
  'student: turns the 1 h reminder off by email');
select is(tests.refusal($$insert into public.notification_preferences (kind, channel) values ('session_booked', 'email')$$),
  'PT422: kind: session_booked messages may not be turned off', 'student: a booking message cannot be turned off');
select throws_ok($$insert into public.notification_preferences (kind, channel) values ('refund_processed', 'discord')$$,
  'PGRST', '{"code" : "PT422", "message" : "kind: refund_processed messages may not be turned off", "details" : "kind", "hint" : "Only these kinds may be turned off: session_reminder_24h, session_reminder_1h, renewal_reminder, one_session_left."}',
  'student: the refusal names the field and lists the kinds that may be turned off');
select tests.clear_authentication();

-- === the rule: a switched-off kind is not queued on that channel ===
select is(
  private.notify_many(array['cccccccc-0000-0000-0000-0000000000e1', 'bbbbbbbb-0000-0000-0000-0000000000e1']::uuid[],
                      array['session_booked', 'session_reminder_1h']::public.notification_kind[],
                      array['tap-prefs:booked', 'tap-prefs:1h'],
                      array[null, '2030-05-03 08:00+00']::timestamptz[]),
  5, 'two messages to two people: one fewer than without the switch');
select results_eq(
  $$select kind::text, channel::text, recipient_id from public.notifications
     where dedupe_key like 'tap-prefs:%' order by 1, 2, 3$$,
  $$values ('session_booked', 'discord', 'cccccccc-0000-0000-0000-0000000000e1'::uuid),
           ('session_booked', 'email', 'bbbbbbbb-0000-0000-0000-0000000000e1'),
           ('session_booked', 'email', 'cccccccc-0000-0000-0000-0000000000e1'),
           ('session_reminder_1h', 'discord', 'cccccccc-0000-0000-0000-0000000000e1'),
           ('session_reminder_1h', 'email', 'bbbbbbbb-0000-0000-0000-0000000000e1')$$,
  'the student''s 1 h reminder by email is not queued; by Discord it is, and the mentor gets his');
select is(private.notify(array['cccccccc-0000-0000-0000-0000000000e1']::uuid[], 'session_reminder_1h', 'tap-prefs:1h-again'),
  1, 'private.notify honours it too (only Discord)');

-- a session's messages (queue_session_messages, as book_session queues them)
select is(
  private.queue_session_messages(
    jsonb_populate_record(null::public.sessions, '{"id": "55555555-0000-0000-0000-0000000000e1",
      "mentor_id": "bbbbbbbb-0000-0000-0000-0000000000e1", "student_id": "cccccccc-0000-0000-0000-0000000000e1",
      "status": "scheduled", "starts_at": "2030-05-04T09:00:00Z", "ends_at": "2030-05-04T10:00:00Z",
      "reschedule_count": 0}'),
    '{}', 'session_booked', 'tap-prefs:session'),
  8, 'a booking: 3 messages to 3 channels of the two, less the student''s 1 h reminder by email');
select is_empty($$select from public.notifications where recipient_id = 'cccccccc-0000-0000-0000-0000000000e1'
                   and kind = 'session_reminder_1h' and channel = 'email'$$,
  'no 1 h reminder by email for the student anywhere');

-- === turning a kind off voids what is queued and not yet sent ===
select is((select count(*)::integer from public.notifications
            where recipient_id = 'cccccccc-0000-0000-0000-0000000000e1' and kind = 'session_reminder_24h'
              and channel = 'email' and status = 'pending'),
  1, 'before: the 24 h reminder by email is pending');
select tests.authenticate_as('prefs_s');
select lives_ok($$insert into public.notification_preferences (kind, channel) values ('session_reminder_24h', 'email')$$,
  'student: turns the 24 h reminder off by email');
select tests.clear_authentication();
select results_eq(
  $$select channel::text, status::text, voided_at from public.notifications
     where recipient_id = 'cccccccc-0000-0000-0000-0000000000e1' and kind = 'session_reminder_24h' order by 1$$,
  $$values ('discord', 'pending', null::timestamptz), ('email', 'voided', '2030-05-01 12:00+00')$$,
  'after: voided by email (at the business clock), still pending by Discord');
select is((select count(*)::integer from public.notifications
            where recipient_id = 'bbbbbbbb-0000-0000-0000-0000000000e1' and status = 'voided'),
  0, 'the mentor''s messages are untouched');

-- switched back on: messages queued from then on go out again
select tests.authenticate_as('prefs_s');
select results_eq($$update public.notification_preferences set enabled = true where kind = 'session_reminder_1h' returning enabled$$,
  $$values (true)$$, 'student: turns the 1 h reminder back on by email');
select tests.clear_authentication();
select is(private.notify(array['cccccccc-0000-0000-0000-0000000000e1']::uuid[], 'session_reminder_1h', 'tap-prefs:1h-on'),
  2, 'queued by email and Discord again');

-- === the unsubscribe link's RPC (service role) ===
select tests.authenticate_as_service_role();
select results_eq(
  $$select kind::text, channel::text, enabled from public.unsubscribe('cccccccc-0000-0000-0000-0000000000e1', 'renewal_reminder', 'discord')$$,
  $$values ('renewal_reminder', 'discord', false)$$, 'service role: turns renewal reminders off by Discord');
select results_eq(
  $$select kind::text, channel::text, enabled from public.unsubscribe('cccccccc-0000-0000-0000-0000000000e1', 'renewal_reminder', 'discord')$$,
  $$values ('renewal_reminder', 'discord', false)$$, 'service role: again: the same answer, nothing changes');
select results_eq(
  $$select enabled from public.unsubscribe('cccccccc-0000-0000-0000-0000000000e1', 'session_reminder_1h', 'email')$$,
  $$values (false)$$, 'service role: a switch that was on is turned off');
select is(tests.refusal($$select public.unsubscribe('cccccccc-0000-0000-0000-0000000000e1', 'grace_warning', 'email')$$),
  'PT422: kind: grace_warning messages may not be turned off', 'service role: not a kind that may be turned off');
select is(tests.refusal($$select public.unsubscribe('cccccccc-0000-0000-0000-0000000000e1', 'postcard', 'email')$$),
  'PT422: kind: "postcard" is not a kind of message', 'service role: not a kind at all');
select is(tests.refusal($$select public.unsubscribe('cccccccc-0000-0000-0000-0000000000ff', 'renewal_reminder', 'email')$$),
  'PT404: no profile with id cccccccc-0000-0000-0000-0000000000ff', 'service role: an unknown person');
select tests.clear_authentication();

-- === who may call what ===
select function_privs_are('public', 'unsubscribe', array['text', 'text', 'text'], 'authenticated', array[]::text[],
  'nobody signed in calls unsubscribe (people write their own switches directly)');
select function_privs_are('public', 'my_notification_preferences', array[]::text[], 'anon', array[]::text[],
  'anon has no switches');

-- === the listing a dashboard draws ===
select tests.authenticate_as('prefs_s');
select results_eq(
  $$select kind::text, channel::text, enabled from public.my_notification_preferences()$$,
  $$values ('session_reminder_24h', 'email', false), ('session_reminder_24h', 'discord', true),
           ('session_reminder_1h', 'email', false), ('session_reminder_1h', 'discord', true),
           ('renewal_reminder', 'email', true), ('renewal_reminder', 'discord', false),
           ('one_session_left', 'email', true), ('one_session_left', 'discord', true)$$,
  'student: every optional kind on every channel, with her settings (on unless turned off)');
select tests.clear_authentication();
select tests.authenticate_as('prefs_m');
select is((select count(*)::integer from public.my_notification_preferences() where enabled), 8,
  'mentor: all on (the student''s switches are hers)');
select tests.clear_authentication();

select * from finish();
rollback;
