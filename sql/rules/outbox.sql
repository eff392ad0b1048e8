-- Delivering the outbox (public.notifications): the dispatcher worker claims due messages under a
-- lease, sends them and reports each one sent or failed. Claiming, retrying and giving up are
-- rules, so they are here; the worker holds nothing a restart would lose.
--
--   pending --claim--> sending --notification_sent--> sent
--                         |----notification_failed--> pending (retry at next_attempt_at)
--                         |                           failed (permanent, or the last attempt)
--                         '----lease ran out--------> pending (or failed after the last attempt)
--   pending --claim--> voided (a session message whose session was canceled or moved)
--
-- The worker calls the public RPCs below with the service-role key (through PostgREST, like the
-- webhooks; a direct connection works the same); each reads its arguments and calls its
-- security definer in private. They live here rather than in api.sql because only the service
-- role may call them, and the dispatcher's rules read best in one file.

-- The delay before retrying a message whose attempt number `attempts` failed:
-- d = min(base * 2^(attempts - 1), max) seconds, of which the second half is drawn at random
-- (the delay is in [d/2, d]), so that messages failing together do not retry together, and
-- every delay is at least as long as the full delay of the attempt before.
create or replace function private.message_retry_delay(attempts integer, base_seconds integer, max_seconds integer)
returns interval
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  full_delay double precision := least(max_seconds::double precision,
                                       base_seconds * pg_catalog.power(2::double precision, greatest(attempts, 1) - 1));
begin
  return make_interval(secs => full_delay / 2 + pg_catalog.random() * full_delay / 2);
end
$$;
comment on function private.message_retry_delay(integer, integer, integer) is
  'The delay before the next attempt after attempt number `attempts` failed: in [d/2, d], d = min(base * 2^(attempts-1), max) seconds.';
revoke execute on function private.message_retry_delay(integer, integer, integer) from public, anon, authenticated;
grant execute on function private.message_retry_delay(integer, integer, integer) to service_role;

-- A message fails for good: status failed, and every admin is told once (the event key is the
-- message's id). A delivery_failed message that fails tells nobody, so that an admin whose own
-- address bounces does not start a chain of them.
create or replace function private.give_up_notification(notification_id bigint, error text)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
begin
  update public.notifications x
     set status = 'failed', locked_until = null, last_error = left(give_up_notification.error, 2000)
   where x.id = give_up_notification.notification_id
  returning * into n;
  if n.kind <> 'delivery_failed' then
    perform private.notify(private.admin_ids(), 'delivery_failed', format('notification:%s:delivery_failed', n.id),
                           jsonb_build_object('notification_id', n.id, 'kind', n.kind, 'channel', n.channel,
                                              'recipient_id', n.recipient_id, 'attempts', n.attempts,
                                              'error', n.last_error, 'session_id', n.session_id),
                           null, n.session_id, n.pack_id);
  end if;
  return n;
end
$$;
comment on function private.give_up_notification(bigint, text) is
  'Marks a message failed for good with its last error and tells the admins once (delivery_failed).';
revoke execute on function private.give_up_notification(bigint, text) from public, anon, authenticated;
grant execute on function private.give_up_notification(bigint, text) to service_role;

create or replace function private.claim_notifications(worker text, max_messages integer, lease_seconds integer)
returns setof public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  max_attempts integer := (select s.message_max_attempts from public.platform_settings s where s.id);
  wanted integer := max_messages;
  asked integer;
  picked bigint[];
  claimed integer;
  voided integer;
  expired record;
begin
  -- Leases that ran out (their worker died or hung): back to pending, or failed when that was
  -- the last attempt (a message that kills its worker every time must not loop for ever).
  for expired in
    select x.id, x.attempts, x.claimed_by from public.notifications x
     where x.status = 'sending' and x.locked_until <= now_
     order by x.locked_until
       for update skip locked
  loop
    if expired.attempts >= max_attempts then
      perform private.give_up_notification(expired.id, format('the lease of %s ran out', expired.claimed_by));
    else
      update public.notifications x
         set status = 'pending', locked_until = null,
             last_error = format('the lease of %s ran out', expired.claimed_by)
       where x.id = expired.id;
    end if;
  end loop;

  loop
    asked := wanted;
    -- Due messages in the order they fell due; rows another claim holds are skipped, not waited for.
    select array_agg(d.id) into picked
      from (select x.id from public.notifications x
             where x.status = 'pending' and greatest(x.send_after, x.next_attempt_at) <= now_
             order by greatest(x.send_after, x.next_attempt_at), x.id
             limit asked
               for update skip locked) d;
    exit when picked is null;
    -- A message that announces a session's time is voided instead of sent when the session is no
    -- longer scheduled, or starts at another time than the message says (it was moved; the move
    -- queued its own messages). The cancel message itself is not one of them.
    update public.notifications x
       set status = 'voided', voided_at = now_
     where x.id = any(picked)
       and x.kind in ('session_booked', 'session_rescheduled', 'session_reminder_24h', 'session_reminder_1h')
       and x.session_id is not null
       and not exists (
         select from public.sessions s
          where s.id = x.session_id and s.status = 'scheduled'
            and (not x.payload ? 'starts_at' or s.starts_at = (x.payload ->> 'starts_at')::timestamptz));
    -- How many this transaction's claims voided, for claim_messages to report.
    get diagnostics voided = row_count;
    if voided > 0 then
      perform pg_catalog.set_config('mentorships.claim_voided',
        (coalesce(nullif(pg_catalog.current_setting('mentorships.claim_voided', true), ''), '0')::integer + voided)::text,
        true);
    end if;
    return query
      with c as (
        update public.notifications x
           set status = 'sending', attempts = x.attempts + 1, claimed_by = claim_notifications.worker,
               locked_until = now_ + make_interval(secs => claim_notifications.lease_seconds)
         where x.id = any(picked) and x.status = 'pending'
        returning x.*)
      select * from c order by greatest(c.send_after, c.next_attempt_at), c.id;
    get diagnostics claimed = row_count;
    wanted := wanted - claimed;
    -- Again only when some were voided and more may be due.
    exit when wanted <= 0 or pg_catalog.cardinality(picked) < asked;
  end loop;
end
$$;
comment on function private.claim_notifications(text, integer, integer) is 'See public.claim_notifications.';
revoke execute on function private.claim_notifications(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_notifications(text, integer, integer) to service_role;

create or replace function private.notification_sent(notification_id bigint, provider_message_id text)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
begin
  select * into n from public.notifications x where x.id = notification_sent.notification_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', notification_sent.notification_id));
  end if;
  if n.status = 'sent' then
    return n;
  end if;
  if n.status <> 'sending' then
    perform private.refuse(409, format('message %s is %s, not sending', n.id, n.status));
  end if;
  update public.notifications x
     set status = 'sent', sent_at = private.clock_now(), locked_until = null,
         provider_message_id = notification_sent.provider_message_id
   where x.id = n.id
  returning * into n;
  return n;
end
$$;
comment on function private.notification_sent(bigint, text) is 'See public.notification_sent.';
revoke execute on function private.notification_sent(bigint, text) from public, anon, authenticated;
grant execute on function private.notification_sent(bigint, text) to service_role;

create or replace function private.notification_failed(notification_id bigint, error text, permanent boolean)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
  s public.platform_settings;
begin
  select * into n from public.notifications x where x.id = notification_failed.notification_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', notification_failed.notification_id));
  end if;
  if n.status = 'failed' then
    return n;
  end if;
  if n.status <> 'sending' then
    perform private.refuse(409, format('message %s is %s, not sending', n.id, n.status));
  end if;
  select * into s from public.platform_settings x where x.id;
  if notification_failed.permanent or n.attempts >= s.message_max_attempts then
    return private.give_up_notification(n.id, notification_failed.error);
  end if;
  update public.notifications x
     set status = 'pending', locked_until = null, last_error = left(notification_failed.error, 2000),
         next_attempt_at = private.clock_now()
                           + private.message_retry_delay(n.attempts, s.message_retry_base_seconds,
                                                         s.message_retry_max_seconds)
   where x.id = n.id
  returning * into n;
  return n;
end
$$;
comment on function private.notification_failed(bigint, text, boolean) is 'See public.notification_failed.';
revoke execute on function private.notification_failed(bigint, text, boolean) from public, anon, authenticated;
grant execute on function private.notification_failed(bigint, text, boolean) to service_role;

-- A worker that LISTENs on notifications_due wakes as soon as a message that is due now commits
-- (Postgres delivers a notification at commit, and once per transaction for the same payload).
-- Once per statement: a booking's messages are one insert. Reminders for later wake nobody; the
-- worker's poll finds them.
create or replace function private.tg_notifications__wake_dispatcher()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  first_due bigint;
begin
  select min(i.id) into first_due from inserted i where i.send_after <= private.clock_now();
  if first_due is not null then
    perform pg_catalog.pg_notify('notifications_due', first_due::text);
  end if;
  return null;
end
$$;
comment on function private.tg_notifications__wake_dispatcher() is
  'Notifies the channel notifications_due (payload: the first due id) when an insert queued a message due now.';
revoke execute on function private.tg_notifications__wake_dispatcher() from public, anon, authenticated;

drop trigger if exists _100_wake_dispatcher on public.notifications;
create trigger _100_wake_dispatcher
  after insert on public.notifications
  referencing new table as inserted
  for each statement execute function private.tg_notifications__wake_dispatcher();

-- The RPCs the dispatcher calls (service role only) ------------------------------------------

-- A message id as it arrives (text): a positive whole number, or a 422 naming the field.
create or replace function private.message_id_arg(value text)
returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if value is null then
    perform private.refuse(422, 'notification_id is required',
      'Send notification_id as the id of a message (a whole number).', 'notification_id');
  end if;
  if value !~ '^\s*\d{1,18}\s*$' then
    perform private.refuse(422, format('notification_id: %s is not a message id', private.quoted(value)),
      'Send notification_id as the id of a message (a whole number).', 'notification_id');
  end if;
  return value::bigint;
end
$$;
comment on function private.message_id_arg(text) is 'value as a message id (bigint); a 422 naming notification_id otherwise.';
revoke execute on function private.message_id_arg(text) from public, anon, authenticated;
grant execute on function private.message_id_arg(text) to service_role;

create or replace function public.claim_notifications(worker text default null, max_messages text default null,
                                                      lease_seconds text default null)
returns setof public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_notifications(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_messages, '100'), 'max_messages', 1, 1000),
    private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_notifications(text, text, text) is
$$Service role (the dispatcher): claims up to max_messages due messages (pending, send_after and next_attempt_at passed; rows another worker holds are skipped) and returns them marked sending, attempts + 1, claimed_by worker, leased until now + lease_seconds. A message about a session that is no longer scheduled or starts at another time than it says is voided instead. Messages whose lease ran out go back to pending first (failed after the last attempt).
Arguments: worker (text, at most 200 characters), max_messages (1 to 1000, default 100), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_notifications(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_notifications(text, text, text) to service_role;

create or replace function public.notification_sent(notification_id text default null,
                                                    provider_message_id text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.notification_sent(private.message_id_arg(notification_id),
    private.text_arg(provider_message_id, 'provider_message_id', 500));
end
$$;
comment on function public.notification_sent(text, text) is
$$Service role (the dispatcher): records that a claimed message was delivered (status sent, sent_at, the provider's message id); returns the message. Reporting it again changes nothing.
Arguments: notification_id (the message's id), provider_message_id (text, at most 500 characters, optional).
Errors: 404 PT404 no such message; 409 PT409 the message is not sending (its lease ran out, it failed or was voided); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.notification_sent(text, text) from public, anon, authenticated;
grant execute on function public.notification_sent(text, text) to service_role;

create or replace function public.notification_failed(notification_id text default null, error text default null,
                                                      permanent text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  if permanent is not null and lower(btrim(permanent)) not in ('true', 'false') then
    perform private.refuse(422, format('permanent: %s is not true or false', private.quoted(permanent)),
      'Send permanent as true or false.', 'permanent');
  end if;
  return private.notification_failed(private.message_id_arg(notification_id),
    private.text_arg(error, 'error', 10000, required => true),
    coalesce(lower(btrim(permanent)) = 'true', false));
end
$$;
comment on function public.notification_failed(text, text, text) is
$$Service role (the dispatcher): records that delivering a claimed message failed; returns the message. A permanent error (unknown address, bot blocked), or a failure of the last attempt (platform_settings.message_max_attempts), fails it for good and tells every admin once (delivery_failed); otherwise it goes back to pending until next_attempt_at (exponential backoff with jitter, capped). Reporting a failed message again changes nothing.
Arguments: notification_id (the message's id), error (text, at most 10000 characters; the first 2000 are kept), permanent (true or false, default false).
Errors: 404 PT404 no such message; 409 PT409 the message is not sending (its lease ran out, it was sent or voided); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.notification_failed(text, text, text) from public, anon, authenticated;
grant execute on function public.notification_failed(text, text, text) to service_role;
