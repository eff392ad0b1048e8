-- Delivering the outbox (sql/rules/outbox.sql): the dispatcher (the service role) claims due
-- messages under a lease, reports them sent or failed; failures are retried with capped
-- exponential backoff until the last attempt, when the admins are told once; a lease that runs out
-- returns the message; a message about a session that was canceled or moved is voided by the
-- claim, never returned. Nobody else may call any of it. (Two workers claiming at once, a row
-- another claim holds, and the LISTEN wake-up: tests/sql/rules/test_outbox.py.)
--
-- tests.create_rls_world() (supabase/tests/helpers/) gives the people and sessions; the clock is
-- frozen at 2030-01-06 12:00 UTC (T below). Ids used below:
--   admin      aaaaaaaa-0000-0000-0000-000000000001
--   mentor M1  bbbbbbbb-0000-0000-0000-000000000001
--   students   A cccccccc-0000-0000-0000-00000000000a (M1's), B cccccccc-0000-0000-0000-00000000000b
--   sessions   a1 55555555-0000-0000-0000-0000000000a1 (A with M1), b2 55555555-0000-0000-0000-0000000000b2
--              (B with M2), both scheduled 2030-01-07 10:00-11:00 UTC
-- Messages are named by their dedupe key, 'tap-dlv:<name>'.
begin;
set search_path = public, extensions;
select plan(43);

select tests.create_rls_world();
-- A clean outbox inside this transaction (rolled back): the messages other tests committed would
-- be due too.
delete from public.notifications;
update public.platform_settings
   set message_max_attempts = 5, message_retry_base_seconds = 60, message_retry_max_seconds = 150;

create function pg_temp.msg(name text) returns public.notifications language sql as
  $$select * from public.notifications where dedupe_key = 'tap-dlv:' || name$$;
create function pg_temp.id(name text) returns text language sql as
  $$select id::text from public.notifications where dedupe_key = 'tap-dlv:' || name$$;
grant execute on function pg_temp.msg(text), pg_temp.id(text) to authenticated, service_role;

insert into public.notifications (recipient_id, kind, channel, dedupe_key, send_after, session_id, payload)
select 'cccccccc-0000-0000-0000-00000000000a', kind::public.notification_kind, 'email', 'tap-dlv:' || name,
       send_after::timestamptz, session_id::uuid, coalesce(payload, '{}')::jsonb
  from (values
    ('due1', 'pack_purchased', '2030-01-06 11:58+00', null, null),
    ('due2', 'one_session_left', '2030-01-06 11:59+00', null, null),
    ('later', 'renewal_reminder', '2030-01-06 13:00+00', null, null),
    -- the 24 h reminder of a1, saying the time a1 still has
    ('rem_ok', 'session_reminder_24h', '2030-01-06 10:00+00', '55555555-0000-0000-0000-0000000000a1',
     '{"starts_at": "2030-01-07T10:00:00+00:00"}'),
    -- b2's 1 h reminder written when b2 started at 09:00 (it starts at 10:00 now)
    ('rem_moved', 'session_reminder_24h', '2030-01-06 09:00+00', '55555555-0000-0000-0000-0000000000b2',
     '{"starts_at": "2030-01-07T09:00:00+00:00"}')
  ) m (name, kind, send_after, session_id, payload);

-- === anon and signed-in users call none of it ===
select is_empty(
  $$select r, f from unnest(array['anon', 'authenticated']) r,
      unnest(array['public.claim_notifications(text, text, text)', 'public.notification_sent(text, text)',
                   'public.notification_failed(text, text, text)',
                   'private.claim_notifications(text, integer, integer)', 'private.notification_sent(bigint, text)',
                   'private.notification_failed(bigint, text, boolean)',
                   'private.give_up_notification(bigint, text)']) f
     where has_function_privilege(r, f, 'execute')$$,
  'anon and authenticated may execute none of the dispatcher''s functions');
select tests.authenticate_as_anon();
select throws_ok($$select * from public.claim_notifications('anon', '10', '60')$$, '42501',
  'permission denied for function claim_notifications', 'anon: claim_notifications: refused');
select tests.authenticate_as('rls_a');
select throws_ok(format($$select public.notification_sent(%L, 'x')$$, pg_temp.id('due1')), '42501',
  'permission denied for function notification_sent', 'student A: notification_sent on their own message: refused');
select throws_ok(format($$select public.notification_failed(%L, 'x')$$, pg_temp.id('due1')), '42501',
  'permission denied for function notification_failed', 'student A: notification_failed: refused');
select tests.clear_authentication();

-- === the service role (the dispatcher) claims ===
create temporary table claimed (like public.notifications);
grant all on claimed to service_role;
select tests.authenticate_as_service_role();
insert into claimed select * from public.claim_notifications('w1', '10', '60');
select results_eq(
  $$select dedupe_key, status::text, attempts, claimed_by, locked_until from claimed$$,
  $$values ('tap-dlv:rem_ok', 'sending', 1, 'w1', '2030-01-06 12:01+00'::timestamptz),
           ('tap-dlv:due1', 'sending', 1, 'w1', '2030-01-06 12:01+00'::timestamptz),
           ('tap-dlv:due2', 'sending', 1, 'w1', '2030-01-06 12:01+00'::timestamptz)$$,
  'claim: the due messages in the order they fell due, sending, attempt 1, leased to w1 for 60 s');
select results_eq($$select status::text, voided_at from pg_temp.msg('rem_moved')$$,
  $$values ('voided', '2030-01-06 12:00+00'::timestamptz)$$,
  'claim: a reminder saying another start than its session has is voided instead of returned');
select is((pg_temp.msg('later')).status::text, 'pending', 'claim: a message not due yet stays pending');
select is_empty($$select * from public.claim_notifications('w2', '10', '60')$$,
  'claim again: nothing (the claimed ones are leased)');
select is((select count(*)::integer from public.notifications where status = 'sending'), 3,
  'and the claimed ones stay claimed');
truncate claimed;
insert into claimed select * from public.claim_notifications('w1', '1', '60');
select is((select count(*)::integer from claimed), 0, 'max_messages 1 with nothing due: nothing');

-- === sent ===
select results_eq(
  format($$select status::text, sent_at, provider_message_id, locked_until from public.notification_sent(%L, 're_1')$$,
         pg_temp.id('due1')),
  $$values ('sent', '2030-01-06 12:00+00'::timestamptz, 're_1', null::timestamptz)$$,
  'sent: status sent, sent_at, the provider''s id, no lease');
select results_eq(
  format($$select status::text, sent_at, provider_message_id from public.notification_sent(%L, 're_2')$$,
         pg_temp.id('due1')),
  $$values ('sent', '2030-01-06 12:00+00'::timestamptz, 're_1')$$,
  'sent again: no error, nothing changes');
select matches(tests.refusal(format($$select public.notification_sent(%L, 'x')$$, pg_temp.id('later'))),
  '^PT409: message \d+ is pending, not sending$', 'sent for a message nobody claimed: 409');
select is(tests.refusal($$select public.notification_sent('0', 'x')$$), 'PT404: no message 0', 'sent for no message: 404');
select is(tests.refusal($$select public.notification_sent('abc', 'x')$$),
  'PT422: notification_id: "abc" is not a message id', 'sent with a malformed id: 422');
select is((public.notification_sent(pg_temp.id('rem_ok'), null)).status::text, 'sent',
  'sent without a provider id (the local file transport)');

-- === failed: retried with capped exponential backoff, given up after the last attempt ===
-- base 60 s, cap 150 s: after attempt n the delay is in [d/2, d], d = min(60 * 2^(n-1), 150).
-- Each round: report the failure, claim just before next_attempt_at (nothing), claim at it (due2).
create temporary table retries (attempt integer, status text, seconds double precision, early bigint, due bigint);
grant all on retries to service_role;
do $$
declare
  n public.notifications;
  reported timestamptz;
  early bigint;
  due bigint;
begin
  for k in 1..4 loop
    reported := private.clock_now();
    n := public.notification_failed(pg_temp.id('due2'), format('timeout %s', k));
    perform tests.freeze_clock(n.next_attempt_at - interval '1 millisecond');
    select count(*) into early from public.claim_notifications('w1', '10', '60');
    perform tests.freeze_clock(n.next_attempt_at);
    select count(*) into due from public.claim_notifications('w1', '10', '60') c where c.dedupe_key = 'tap-dlv:due2';
    insert into retries values (n.attempts, n.status, extract(epoch from n.next_attempt_at - reported), early, due);
  end loop;
end
$$;
select results_eq(
  $$select r.attempt, r.status, r.seconds between b.lo and b.hi, r.early, r.due
      from retries r join (values (1, 30, 60), (2, 60, 120), (3, 75, 150), (4, 75, 150)) b (attempt, lo, hi)
        using (attempt) order by 1$$,
  $$values (1, 'pending', true, 0::bigint, 1::bigint), (2, 'pending', true, 0::bigint, 1::bigint),
           (3, 'pending', true, 0::bigint, 1::bigint), (4, 'pending', true, 0::bigint, 1::bigint)$$,
  'failed: back to pending; retried after 30-60 s, 60-120 s, then capped at 75-150 s; not claimed a moment before');
select is((select count(*)::integer from public.notifications where kind = 'delivery_failed'), 0,
  'no admin is told while retries remain');
select results_eq(
  format($$select status::text, attempts, last_error, locked_until from public.notification_failed(%L, 'timeout 5')$$,
         pg_temp.id('due2')),
  $$values ('failed', 5, 'timeout 5', null::timestamptz)$$,
  'failed on the last attempt (5): failed for good');
select results_eq(
  $$select recipient_id, channel::text, count(*)::integer from public.notifications
     where kind = 'delivery_failed' and payload ->> 'notification_id' = pg_temp.id('due2') group by 1, 2 order by 1, 2$$,
  $$select p.id, c.channel, 1 from public.profiles p
      cross join lateral (values ('email'), ('discord')) c (channel)
     where p.role = 'admin' and (c.channel = 'email' or p.discord_user_id is not null) order by 1, 2$$,
  'every admin is told once, on each of their channels');
select ok((select bool_and(send_after = private.clock_now() and payload ->> 'error' = 'timeout 5'
                            and payload ->> 'kind' = 'one_session_left')
             from public.notifications where kind = 'delivery_failed'),
  'the notice is due now and says which message and why');
select results_eq(
  format($$select status::text, attempts, last_error from public.notification_failed(%L, 'timeout 6')$$, pg_temp.id('due2')),
  $$values ('failed', 5, 'timeout 5')$$, 'failed reported again: nothing changes');
select is((select count(*)::integer from public.notifications where kind = 'delivery_failed'),
  (select count(*)::integer from public.profiles p, (values (1), (2)) c (n)
    where p.role = 'admin' and (c.n = 1 or p.discord_user_id is not null)),
  'and the admins are not told again');
select matches(tests.refusal(format($$select public.notification_failed(%L, 'x')$$, pg_temp.id('due1'))),
  '^PT409: message \d+ is sent, not sending$', 'failed for a message already sent: 409');
select is(tests.refusal($$select public.notification_failed('1', 'x', 'maybe')$$),
  'PT422: permanent: "maybe" is not true or false', 'failed with a malformed permanent: 422');

-- === a permanent failure fails at once ===
select tests.clear_authentication();
delete from public.notifications where kind = 'delivery_failed';
insert into public.notifications (recipient_id, kind, channel, dedupe_key, send_after)
values ('cccccccc-0000-0000-0000-00000000000b', 'grace_warning', 'discord', 'tap-dlv:perm', private.clock_now()),
       ('cccccccc-0000-0000-0000-00000000000b', 'grace_started', 'email', 'tap-dlv:lease', private.clock_now());
select tests.authenticate_as_service_role();
truncate claimed;
insert into claimed select * from public.claim_notifications('w3', '10', '60');
select results_eq($$select dedupe_key from claimed order by id$$, $$values ('tap-dlv:perm'), ('tap-dlv:lease')$$,
  'claim: the two new messages');
select results_eq(
  format($$select status::text, attempts, last_error from public.notification_failed(%L, 'bot blocked by the user', 'true')$$,
         pg_temp.id('perm')),
  $$values ('failed', 1, 'bot blocked by the user')$$, 'a permanent failure on the first attempt: failed at once');
select is((select count(distinct recipient_id)::integer from public.notifications
            where kind = 'delivery_failed' and payload ->> 'notification_id' = pg_temp.id('perm')),
  (select count(*)::integer from public.profiles where role = 'admin'), 'and the admins are told');

-- === a lease that runs out ===
-- (the admins' notices are due as well, and claimed alongside; they are not looked at here)
select tests.freeze_clock(private.clock_now() + interval '59 seconds');
select is_empty($$select * from public.claim_notifications('w4', '10', '60') where dedupe_key like 'tap-dlv:%'$$,
  'claim before the lease ran out: nothing (w3 still holds it)');
select tests.freeze_clock(private.clock_now() + interval '1 second');
truncate claimed;
insert into claimed select * from public.claim_notifications('w4', '10', '60');
select results_eq($$select dedupe_key, status::text, attempts, claimed_by, last_error from claimed
                     where dedupe_key like 'tap-dlv:%'$$,
  $$values ('tap-dlv:lease', 'sending', 2, 'w4', 'the lease of w3 ran out')$$,
  'when it ran out the message went back to pending and the next claim takes it (attempt 2)');
select matches(tests.refusal(format($$select public.notification_sent(%L, 'x')$$, pg_temp.id('perm'))),
  '^PT409: message \d+ is failed, not sending$', 'sent for a message that failed: 409');
select tests.clear_authentication();
update public.platform_settings set message_max_attempts = 2;
select tests.authenticate_as_service_role();
select tests.freeze_clock(private.clock_now() + interval '60 seconds');
select is_empty($$select * from public.claim_notifications('w5', '10', '60') where dedupe_key like 'tap-dlv:%'$$,
  'a lease that runs out on the last attempt: not claimed again');
select results_eq($$select status::text, attempts, last_error from pg_temp.msg('lease')$$,
  $$values ('failed', 2, 'the lease of w4 ran out')$$, 'but failed for good');
select is((select count(distinct recipient_id)::integer from public.notifications
            where kind = 'delivery_failed' and payload ->> 'notification_id' = pg_temp.id('lease')),
  (select count(*)::integer from public.profiles where role = 'admin'), 'and the admins are told');

-- === a session canceled between queueing and sending ===
-- a1's confirmation (not sent yet) and its 1 h reminder; then its mentor cancels it.
select tests.clear_authentication();
insert into public.notifications (recipient_id, kind, channel, dedupe_key, send_after, session_id, payload)
values ('cccccccc-0000-0000-0000-00000000000a', 'session_booked', 'email', 'tap-dlv:booked_a1', private.clock_now(),
        '55555555-0000-0000-0000-0000000000a1', '{"starts_at": "2030-01-07T10:00:00Z"}'),
       ('cccccccc-0000-0000-0000-00000000000a', 'session_reminder_1h', 'email', 'tap-dlv:rem_a1',
        '2030-01-07 09:00+00', '55555555-0000-0000-0000-0000000000a1', '{"starts_at": "2030-01-07T10:00:00Z"}');
select tests.authenticate_as('rls_m1');
select is(((public.cancel_session('55555555-0000-0000-0000-0000000000a1', 'tap')).session).status::text, 'canceled',
  'mentor M1 cancels a1');
select tests.authenticate_as_service_role();
select tests.freeze_clock('2030-01-07 09:00+00');
truncate claimed;
insert into claimed select * from public.claim_notifications('w6', '100', '60');
select results_eq(
  $$select kind::text, count(*)::integer from claimed where session_id = '55555555-0000-0000-0000-0000000000a1' group by 1$$,
  $$values ('session_canceled', 2)$$,
  'claim when all are due: of a1''s messages only the cancel message (to A and to M1)');
select results_eq(
  $$select dedupe_key, status::text from public.notifications where dedupe_key in ('tap-dlv:booked_a1', 'tap-dlv:rem_a1') order by 1$$,
  $$values ('tap-dlv:booked_a1', 'voided'), ('tap-dlv:rem_a1', 'voided')$$,
  'the reminder was voided by the cancel, the unsent confirmation by the claim');
select is((select count(*)::integer from claimed where dedupe_key = 'tap-dlv:later'), 1,
  'and the other due message is returned');

-- === a notice to the admins that fails tells nobody (no chain of notices) ===
select results_eq(
  $$select kind::text, status::text from public.notification_failed(
      (select id::text from claimed where kind = 'delivery_failed' order by id limit 1), 'mailbox full', 'true')$$,
  $$values ('delivery_failed', 'failed')$$, 'an admin''s notice fails for good');
select is((select count(*)::integer from public.notifications
            where kind = 'delivery_failed' and payload ->> 'kind' = 'delivery_failed'), 0,
  'and nobody is told about it');

-- === claim's arguments ===
select is(tests.refusal($$select public.claim_notifications(null, '10', '60')$$), 'PT422: worker is required',
  'claim without a worker: 422');
select is(tests.refusal($$select public.claim_notifications('w', '0', '60')$$),
  'PT422: max_messages: "0" is outside 1 to 1000', 'claim of 0 messages: 422');
select is(tests.refusal($$select public.claim_notifications('w', '10', '5')$$),
  'PT422: lease_seconds: "5" is outside 10 to 3600', 'claim with a 5 s lease: 422');

select * from finish();
rollback;
