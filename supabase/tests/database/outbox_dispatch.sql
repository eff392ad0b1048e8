-- What the dispatcher calls per batch (sql/rules/outbox.sql): claim_messages (the claim and every
-- message's look-ups in one call) and report_notifications (a batch of outcomes, each applied by
-- notification_sent / notification_failed; a malformed element refused with nothing written).
-- Only the service role may call them.
--
-- tests.create_rls_world() (supabase/tests/helpers/) gives the people and sessions; the clock is
-- frozen at 2030-01-06 12:00 UTC. Ids used below:
--   admin      aaaaaaaa-0000-0000-0000-000000000001
--   mentor M1  bbbbbbbb-0000-0000-0000-000000000001 ('Mentor One', product 'M1 four sessions')
--   student A  cccccccc-0000-0000-0000-00000000000a (M1's; pack a1 with 3 remaining, session a1)
--   session a1 55555555-0000-0000-0000-0000000000a1 (A with M1, 2030-01-07 10:00-11:00 UTC)
-- Messages are named by their dedupe key, 'tap-dsp:<name>'.
begin;
set search_path = public, extensions;
select plan(22);

select tests.create_rls_world();
delete from public.notifications;
update public.profiles set time_zone = 'Europe/Berlin' where id = 'cccccccc-0000-0000-0000-00000000000a';
update public.profiles set discord_user_id = '100000000000000001' where id = 'bbbbbbbb-0000-0000-0000-000000000001';
update public.sessions set reschedule_count = 2 where id = '55555555-0000-0000-0000-0000000000a1';

create function pg_temp.id(name text) returns bigint language sql as
  $$select id from public.notifications where dedupe_key = 'tap-dsp:' || name$$;
grant execute on function pg_temp.id(text) to service_role;

insert into public.notifications (recipient_id, kind, channel, dedupe_key, send_after, session_id, pack_id, payload)
select recipient::uuid, kind::public.notification_kind, channel::public.notification_channel, 'tap-dsp:' || name,
       send_after::timestamptz, session_id::uuid, pack_id::uuid, payload::jsonb
  from (values
    ('booked_a', 'cccccccc-0000-0000-0000-00000000000a', 'session_booked', 'email', '2030-01-06 11:00+00',
     '55555555-0000-0000-0000-0000000000a1', null,
     '{"session_id": "55555555-0000-0000-0000-0000000000a1", "starts_at": "2030-01-07T10:00:00+00:00"}'),
    ('booked_m', 'bbbbbbbb-0000-0000-0000-000000000001', 'session_booked', 'discord', '2030-01-06 11:01+00',
     '55555555-0000-0000-0000-0000000000a1', null,
     '{"session_id": "55555555-0000-0000-0000-0000000000a1", "starts_at": "2030-01-07T10:00:00+00:00"}'),
    ('renew', 'cccccccc-0000-0000-0000-00000000000a', 'renewal_reminder', 'email', '2030-01-06 11:02+00',
     null, '99999999-0000-0000-0000-0000000000a1',
     '{"pack_id": "99999999-0000-0000-0000-0000000000a1", "mentor_id": "bbbbbbbb-0000-0000-0000-000000000001"}'),
    ('refund_admin', 'aaaaaaaa-0000-0000-0000-000000000001', 'refund_processed', 'email', '2030-01-06 11:03+00',
     null, null, '{"order_id": "ffffffff-0000-0000-0000-0000000000a1", "refunded_cents": 100}'),
    ('grace', 'cccccccc-0000-0000-0000-00000000000a', 'grace_warning', 'discord', '2030-01-06 11:04+00',
     null, null, '{"seat_id": "eeeeeeee-0000-0000-0000-0000000000a1", "mentor_id": "not-a-uuid"}'),
    ('moved', 'cccccccc-0000-0000-0000-00000000000a', 'session_reminder_1h', 'email', '2030-01-06 11:05+00',
     '55555555-0000-0000-0000-0000000000a1', null, '{"starts_at": "2030-01-07T09:00:00+00:00"}'),
    ('later', 'cccccccc-0000-0000-0000-00000000000a', 'one_session_left', 'email', '2030-01-06 13:00+00',
     null, null, '{}')
  ) m (name, recipient, kind, channel, send_after, session_id, pack_id, payload);

-- === who may call them ===
select is_empty(
  $$select r, f from unnest(array['anon', 'authenticated']) r,
      unnest(array['public.claim_messages(text, text, text)', 'public.report_notifications(jsonb)',
                   'private.message_contexts(public.notifications[])']) f
     where has_function_privilege(r, f, 'execute')$$,
  'anon and authenticated may execute none of them');
select tests.authenticate_as('rls_a');
select throws_ok($$select public.claim_messages('a', '10', '60')$$, '42501',
  'permission denied for function claim_messages', 'student A: claim_messages: refused');
select throws_ok($$select public.report_notifications('[]')$$, '42501',
  'permission denied for function report_notifications', 'student A: report_notifications: refused');

-- === claim_messages: the claim and the look-ups ===
select tests.authenticate_as_service_role();
create temporary table answer (body jsonb);
grant all on answer to service_role;
insert into answer select public.claim_messages('w1', '10', '60');
select is((select body -> 'voided' from answer), '1'::jsonb, 'the moved reminder is voided, and counted');
select results_eq(
  $$select m ->> 'dedupe_key', m ->> 'kind', m ->> 'channel', (m ->> 'attempts')::integer from answer,
           jsonb_array_elements(body -> 'messages') m$$,
  $$values ('tap-dsp:booked_a', 'session_booked', 'email', 1), ('tap-dsp:booked_m', 'session_booked', 'discord', 1),
           ('tap-dsp:renew', 'renewal_reminder', 'email', 1), ('tap-dsp:refund_admin', 'refund_processed', 'email', 1),
           ('tap-dsp:grace', 'grace_warning', 'discord', 1)$$,
  'the due messages, in the order they fell due, claimed (attempt 1)');
select is((select status::text from public.notifications where id = pg_temp.id('booked_a')), 'sending',
  'and they are sending');
select results_eq(
  $$select m ->> 'recipient_name', m ->> 'recipient_role', m ->> 'time_zone', m ->> 'email', m ->> 'other_party_name',
           m ->> 'mentor_name', (m ->> 'remaining_sessions')::integer, (m ->> 'reschedule_count')::integer
      from answer, jsonb_array_elements(body -> 'messages') m where m ->> 'dedupe_key' = 'tap-dsp:booked_a'$$,
  $$values ('Student A', 'student', 'Europe/Berlin', 'rls_a@tap.test', 'Mentor One', 'Mentor One', 3, 2)$$,
  'the student''s booking: their name, zone and address, the mentor as the other party, the pack''s remaining, the reschedule count');
select results_eq(
  $$select m ->> 'recipient_role', m ->> 'discord_user_id', m ->> 'other_party_name', m ->> 'time_zone'
      from answer, jsonb_array_elements(body -> 'messages') m where m ->> 'dedupe_key' = 'tap-dsp:booked_m'$$,
  $$values ('mentor', '100000000000000001', 'Student A', 'UTC')$$,
  'the mentor''s booking on Discord: their Discord id, the student as the other party');
select results_eq(
  $$select m ->> 'recipient_role', m ->> 'product_title', m ->> 'mentor_name', m ->> 'queued_at' is not null
      from answer, jsonb_array_elements(body -> 'messages') m where m ->> 'dedupe_key' = 'tap-dsp:renew'$$,
  $$values ('student', 'M1 four sessions', 'Mentor One', true)$$,
  'the renewal reminder: the pack''s product and mentor');
select results_eq(
  $$select m ->> 'recipient_role', m ->> 'other_party_name'
      from answer, jsonb_array_elements(body -> 'messages') m where m ->> 'dedupe_key' = 'tap-dsp:refund_admin'$$,
  $$values ('admin', null::text)$$,
  'an admin''s copy of a refund: role admin');
select results_eq(
  $$select m ->> 'recipient_role', m ->> 'mentor_name', m ->> 'discord_user_id'
      from answer, jsonb_array_elements(body -> 'messages') m where m ->> 'dedupe_key' = 'tap-dsp:grace'$$,
  $$values ('student', 'Mentor One', null::text)$$,
  'a grace warning: the seat names the mentor (a malformed payload id is ignored); no Discord id: null');
truncate answer;
insert into answer select public.claim_messages('w1', '10', '60');
select is((select body from answer), '{"voided": 0, "messages": []}'::jsonb, 'claimed again: nothing');
select is(tests.refusal($$select public.claim_messages(null, '10', '60')$$), 'PT422: worker is required',
  'claim_messages without a worker: 422');

-- === report_notifications ===
select is(tests.refusal($$select public.report_notifications(null)$$), 'PT422: outcomes is required',
  'no outcomes: 422');
select is(tests.refusal($$select public.report_notifications('{}')$$), 'PT422: outcomes: expected an array, not object',
  'outcomes not an array: 422');
select is(tests.refusal(format($$select public.report_notifications('[{"id": %s, "sent": true}, {"id": "x", "error": "e"}]')$$,
                               pg_temp.id('booked_a'))),
  'PT422: outcomes[1].id: x is not a message id', 'a malformed element: 422 naming it');
select is(tests.refusal(format($$select public.report_notifications('[{"id": %s, "sent": true}, {"id": %s}]')$$,
                               pg_temp.id('booked_a'), pg_temp.id('renew'))),
  'PT422: outcomes[1].error is required (or "sent": true)', 'a failure without its error: 422 naming it');
select is(tests.refusal(format($$select public.report_notifications('[{"id": %s, "sent": true}, {"id": %s, "error": "e"}]')$$,
                               pg_temp.id('booked_a'), pg_temp.id('booked_a'))),
  format('PT422: outcomes[1].id: message %s is reported twice', pg_temp.id('booked_a')), 'the same message twice: 422');
select is((select status::text from public.notifications where id = pg_temp.id('booked_a')), 'sending',
  'and a refused batch wrote nothing');
truncate answer;
insert into answer select public.report_notifications(jsonb_build_array(
  jsonb_build_object('id', pg_temp.id('booked_a'), 'sent', true, 'provider_message_id', 'file:a'),
  jsonb_build_object('id', pg_temp.id('booked_m'), 'error', 'timeout'),
  jsonb_build_object('id', pg_temp.id('grace'), 'error', 'no Discord account linked', 'permanent', true),
  jsonb_build_object('id', pg_temp.id('later'), 'sent', true),
  jsonb_build_object('id', 0, 'sent', true)));
select results_eq(
  $$select e ->> 'status' from answer, jsonb_array_elements(body) e$$,
  $$values ('sent'), ('pending'), ('failed'), ('pending'), ('missing')$$,
  'a batch: sent, retried, failed for good, one nobody claimed left as it is, an unknown id answered missing');
select results_eq(
  $$select dedupe_key, status::text, provider_message_id, last_error, next_attempt_at > private.clock_now()
      from public.notifications where dedupe_key in ('tap-dsp:booked_a', 'tap-dsp:booked_m', 'tap-dsp:grace') order by id$$,
  $$values ('tap-dsp:booked_a', 'sent', 'file:a', null::text, null::boolean),
           ('tap-dsp:booked_m', 'pending', null, 'timeout', true),
           ('tap-dsp:grace', 'failed', null, 'no Discord account linked', null)$$,
  'each applied by the rules: sent with its id; a retry with backoff; a permanent failure failed');
select is((select count(*)::integer from public.notifications
            where kind = 'delivery_failed' and payload ->> 'notification_id' = pg_temp.id('grace')::text),
  (select count(*)::integer from public.profiles p, (values (1), (2)) c (n)
    where p.role = 'admin' and (c.n = 1 or p.discord_user_id is not null)),
  'and the admins are told of the one that failed for good');

select * from finish();
rollback;
