-- The dispatcher's calls per batch (sync/messaging/worker.py), on top of the rules in outbox.sql:
-- claim_messages (the claim and what each message's template needs, in one call) and
-- report_notifications (a batch of outcomes, each applied by notification_sent/_failed).

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
               'request_id', n.request_id,
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
$$Service role (the dispatcher): claims due messages as claim_notifications does, and answers them with what their templates need, in one call: {"voided": n, "messages": [{id, kind, channel, dedupe_key, payload, queued_at, attempts, recipient_id, session_id, pack_id, request_id (the X-Request-Id of the API request that queued it, or null), recipient_name, recipient_role (student, mentor or admin), time_zone, email, discord_user_id, other_party_name, mentor_name, product_title, remaining_sessions, reschedule_count}]}, in the order they fell due; voided counts the session messages this claim voided instead (their session was canceled or moved). A recipient without an address on the channel has email or discord_user_id null: report it failed, permanent.
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
  ids bigint[] := '{}'::bigint[];
  id_ bigint;
  n public.notifications;
  answers jsonb := '[]'::jsonb;
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
