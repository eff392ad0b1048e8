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

-- What the dispatcher renders with (sync/messaging/context.py): a claimed batch, each message with
-- the look-ups its template needs, in the claim's own transaction, so a message is rendered with
-- what was true when it was found still due (the claim voids the stale ones in the same breath).
-- One round trip per batch: the claim and the look-ups together (claim_messages), rather than a
-- claim and then a look-up call, which would double the calls on a booking's path.

-- A payload's id, or null when it is absent or not a UUID (payloads are the rules' own, but a
-- malformed one must not fail the claim of a whole batch: the renderer names what is missing).
create or replace function private.payload_uuid(payload jsonb, field text)
returns uuid
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when payload ->> field ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              then (payload ->> field)::uuid end
$$;
comment on function private.payload_uuid(jsonb, text) is 'payload ->> field as a uuid; null when absent or malformed.';
revoke execute on function private.payload_uuid(jsonb, text) from public, anon, authenticated;
grant execute on function private.payload_uuid(jsonb, text) to service_role;

-- Per message: who it is for (name, zone, address on its channel), what the recipient is to it,
-- and the names, title and counts its template shows. The student and mentor come from the
-- session, else the pack, the order, the seat, the payload (in that order); the recipient is the
-- mentor, the student, or (anyone else: an admin's copy, and the admin kinds) an admin.
create or replace function private.message_contexts(messages public.notifications[])
returns table (notification_id bigint, recipient_name text, recipient_role text, time_zone text,
               email text, discord_user_id text, other_party_name text, mentor_name text,
               product_title text, remaining_sessions integer, reschedule_count integer)
language sql
stable
security definer
set search_path = ''
as $$
  select n.id, p.display_name,
         r.role, p.time_zone, u.email::text, p.discord_user_id,
         case r.role when 'student' then m.public_name when 'mentor' then sp.display_name end,
         m.public_name, mp.title, k.remaining_sessions, coalesce(s.reschedule_count, 0)
    from pg_catalog.unnest(messages) n
    join public.profiles p on p.id = n.recipient_id
    left join auth.users u on u.id = n.recipient_id
    left join public.sessions s on s.id = n.session_id
    left join public.session_packs k on k.id = coalesce(n.pack_id, s.pack_id, private.payload_uuid(n.payload, 'pack_id'))
    left join public.orders o on o.id = private.payload_uuid(n.payload, 'order_id')
    left join public.seat_reservations seat on seat.id = private.payload_uuid(n.payload, 'seat_id')
    cross join lateral (
      select coalesce(s.student_id, k.student_id, o.student_id, seat.student_id,
                      private.payload_uuid(n.payload, 'student_id')) as student_id,
             coalesce(s.mentor_id, k.mentor_id, o.mentor_id, seat.mentor_id,
                      private.payload_uuid(n.payload, 'mentor_id')) as mentor_id) w
    cross join lateral (
      select case
               when n.kind in ('payment_flagged', 'delivery_failed') then 'admin'
               when n.recipient_id = w.mentor_id then 'mentor'
               when n.recipient_id = w.student_id then 'student'
               else 'admin'
             end as role) r
    left join public.mentors m on m.id = w.mentor_id
    left join public.profiles sp on sp.id = w.student_id
    left join public.mentorship_products mp
      on mp.id = coalesce(k.product_id, o.product_id, private.payload_uuid(n.payload, 'product_id'))
$$;
comment on function private.message_contexts(public.notifications[]) is
  'The look-ups each message''s template needs (sync/messaging/context.py MessageContext), one row per message whose recipient exists.';
revoke execute on function private.message_contexts(public.notifications[]) from public, anon, authenticated;
grant execute on function private.message_contexts(public.notifications[]) to service_role;

create or replace function public.claim_messages(worker text default null, max_messages text default null,
                                                 lease_seconds text default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  claimed public.notifications[];
  voided integer;
  w text := private.text_arg(worker, 'worker', 200, required => true);
begin
  perform pg_catalog.set_config('mentorships.claim_voided', '0', true);
  select coalesce(array_agg(c order by greatest(c.send_after, c.next_attempt_at), c.id), '{}')
    into claimed
    from private.claim_notifications(w,
           private.integer_arg(coalesce(max_messages, '100'), 'max_messages', 1, 1000),
           private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600)) c;
  voided := coalesce(nullif(pg_catalog.current_setting('mentorships.claim_voided', true), ''), '0')::integer;
  return jsonb_build_object(
    'voided', voided,
    'messages', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', n.id, 'kind', n.kind, 'channel', n.channel, 'dedupe_key', n.dedupe_key,
               'payload', n.payload, 'queued_at', n.created_at, 'attempts', n.attempts,
               'recipient_id', n.recipient_id, 'session_id', n.session_id, 'pack_id', n.pack_id,
               'recipient_name', c.recipient_name, 'recipient_role', c.recipient_role,
               'time_zone', c.time_zone, 'email', c.email, 'discord_user_id', c.discord_user_id,
               'other_party_name', c.other_party_name, 'mentor_name', c.mentor_name,
               'product_title', c.product_title, 'remaining_sessions', c.remaining_sessions,
               'reschedule_count', c.reschedule_count) order by n.ordinality)
        from pg_catalog.unnest(claimed) with ordinality n
        left join private.message_contexts(claimed) c on c.notification_id = n.id), '[]'::jsonb));
end
$$;
comment on function public.claim_messages(text, text, text) is
$$Service role (the dispatcher): claims due messages as claim_notifications does, and answers them with what their templates need, in one call: {"voided": n, "messages": [{id, kind, channel, dedupe_key, payload, queued_at, attempts, recipient_id, session_id, pack_id, recipient_name, recipient_role (student, mentor or admin), time_zone, email, discord_user_id, other_party_name, mentor_name, product_title, remaining_sessions, reschedule_count}]}, in the order they fell due; voided counts the session messages this claim voided instead (their session was canceled or moved). A recipient without an address on the channel has email or discord_user_id null: report it failed, permanent.
Arguments: worker (text, at most 200 characters), max_messages (1 to 1000, default 100), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_messages(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_messages(text, text, text) to service_role;

-- A batch of outcomes in one call, each applied by the rules above (notification_sent,
-- notification_failed), so that retrying and giving up stay in one place. Every element is read
-- before any is applied: a malformed one is a 422 naming it, and nothing is written. A message
-- that is no longer sending (its lease ran out, or it was deleted with its recipient) is answered
-- as it is, not refused: the batch's other outcomes still count.
create or replace function public.report_notifications(outcomes jsonb default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  hint constant text := 'Send outcomes as an array of {"id": <message id>, "sent": true, "provider_message_id": "..."} or {"id": <message id>, "error": "...", "permanent": true|false}.';
  element jsonb;
  i integer := 0;
  field text;
  ids bigint[] := '{}';
  id_ bigint;
  n public.notifications;
  answers jsonb := '[]';
begin
  if outcomes is null then
    perform private.refuse(422, 'outcomes is required', hint, 'outcomes');
  end if;
  if jsonb_typeof(outcomes) <> 'array' then
    perform private.refuse(422, format('outcomes: expected an array, not %s', jsonb_typeof(outcomes)), hint, 'outcomes');
  end if;
  if jsonb_array_length(outcomes) > 1000 then
    perform private.refuse(422, format('outcomes: at most 1000 at once, not %s', jsonb_array_length(outcomes)), hint, 'outcomes');
  end if;
  for element in select e from jsonb_array_elements(outcomes) e loop
    field := format('outcomes[%s]', i);
    if jsonb_typeof(element) <> 'object' then
      perform private.refuse(422, format('%s: expected an object, not %s', field, jsonb_typeof(element)), hint, field);
    end if;
    if jsonb_typeof(element -> 'id') is distinct from 'number' or (element ->> 'id') !~ '^\d{1,18}$' then
      perform private.refuse(422, format('%s.id: %s is not a message id', field, coalesce(element ->> 'id', 'null')), hint, field || '.id');
    end if;
    id_ := (element ->> 'id')::bigint;
    if id_ = any(ids) then
      perform private.refuse(422, format('%s.id: message %s is reported twice', field, id_), hint, field || '.id');
    end if;
    ids := ids || id_;
    if element ? 'sent' then
      if element -> 'sent' <> 'true'::jsonb or element ? 'error' or element ? 'permanent' then
        perform private.refuse(422, format('%s: a sent outcome is {"id", "sent": true, "provider_message_id"}', field), hint, field);
      end if;
      if element ? 'provider_message_id' and jsonb_typeof(element -> 'provider_message_id') not in ('string', 'null')
         or length(element ->> 'provider_message_id') not between 1 and 500 then
        perform private.refuse(422, format('%s.provider_message_id: expected text of 1 to 500 characters', field), hint, field || '.provider_message_id');
      end if;
    else
      if jsonb_typeof(element -> 'error') is distinct from 'string' or btrim(element ->> 'error') = '' then
        perform private.refuse(422, format('%s.error is required (or "sent": true)', field), hint, field || '.error');
      end if;
      if element ? 'permanent' and jsonb_typeof(element -> 'permanent') <> 'boolean' then
        perform private.refuse(422, format('%s.permanent: expected true or false', field), hint, field || '.permanent');
      end if;
    end if;
    i := i + 1;
  end loop;

  -- Locked in id order, as every claim's update locks them, so two reports cannot deadlock.
  perform from public.notifications x where x.id = any(ids) order by x.id for update;
  for element in select e from jsonb_array_elements(outcomes) e loop
    id_ := (element ->> 'id')::bigint;
    select * into n from public.notifications x where x.id = id_;
    if not found then
      answers := answers || jsonb_build_object('id', id_, 'status', 'missing');
      continue;
    end if;
    if element ? 'sent' and n.status in ('sending', 'sent') then
      n := private.notification_sent(id_, element ->> 'provider_message_id');
    elsif not element ? 'sent' and n.status in ('sending', 'failed') then
      n := private.notification_failed(id_, left(element ->> 'error', 10000),
                                        coalesce((element ->> 'permanent')::boolean, false));
    end if;
    answers := answers || jsonb_build_object('id', n.id, 'status', n.status, 'attempts', n.attempts,
                                             'next_attempt_at', n.next_attempt_at);
  end loop;
  return answers;
end
$$;
comment on function public.report_notifications(jsonb) is
$$Service role (the dispatcher): reports a batch of delivery outcomes, each applied as notification_sent or notification_failed would (a failure is retried with backoff, or fails for good when permanent or the last attempt, telling the admins once). Answers one {id, status, attempts, next_attempt_at} per element, in order: status sent, pending (to be retried at next_attempt_at) or failed; an outcome for a message that is no longer sending (its lease ran out: pending again, or another outcome came first) leaves it as it is and answers its status; missing: no such message (deleted with its recipient).
Arguments: outcomes, a JSON array (at most 1000) of {"id": <message id>, "sent": true, "provider_message_id": "<at most 500 characters>"} or {"id": <message id>, "error": "<text>", "permanent": true|false (default false)}.
Errors: 422 PT422 outcomes missing or an element malformed or reported twice (the message names it, e.g. outcomes[2].id; nothing is written).$$;
revoke execute on function public.report_notifications(jsonb) from public, anon, authenticated;
grant execute on function public.report_notifications(jsonb) to service_role;
