-- An admin sends a failed message again (retry_message): the message goes back to pending, due
-- now, for one more attempt. The dispatcher's next claim takes it (attempts + 1); if that attempt
-- fails too, notification_failed gives up again at once (attempts >= message_max_attempts), so a
-- retry is exactly one more attempt. The dedupe key stays, so the provider's idempotency key is
-- the same and nothing is queued twice: a second retry finds the message no longer failed.
--
--   failed --retry_message--> pending (next_attempt_at = now) --claim--> sending --> sent | failed
--
-- A message that announces a session (booked, moved, the reminders) is not retried when its
-- session is no longer scheduled or was moved (the claim would void it), nor any session's
-- message once the session has started: it would arrive too late to matter.

create or replace function private.retry_message(message_id bigint)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
  s public.sessions;
  now_ timestamptz := private.clock_now();
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may retry a message');
  end if;
  select * into n from public.notifications x where x.id = retry_message.message_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', retry_message.message_id),
      'Send message_id as the id of a failed message.', 'message_id');
  end if;
  if n.status <> 'failed' then
    perform private.refuse(409, format('message %s is %s; only a failed message can be retried', n.id, n.status),
      details => 'message_id');
  end if;
  if n.session_id is not null then
    select * into s from public.sessions x where x.id = n.session_id;
    if n.kind in ('session_booked', 'session_rescheduled', 'session_reminder_24h', 'session_reminder_1h') then
      if s.id is null or s.status <> 'scheduled' then
        perform private.refuse(409, format('message %s is about a session that is %s; it would be voided, not sent',
          n.id, coalesce(s.status::text, 'gone')), details => 'message_id');
      end if;
      if n.payload ? 'starts_at' and s.starts_at <> (n.payload ->> 'starts_at')::timestamptz then
        perform private.refuse(409, format('message %s is about a session that was moved since; the move sent its own messages',
          n.id), details => 'message_id');
      end if;
    end if;
    if s.id is not null and s.starts_at <= now_ then
      perform private.refuse(409, format('message %s is about a session that already started (%s UTC); it is too late to send',
        n.id, to_char(s.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')), details => 'message_id');
    end if;
  end if;
  update public.notifications x
     set status = 'pending', next_attempt_at = now_, locked_until = null, claimed_by = null
   where x.id = n.id
  returning * into n;
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values)
  values ((select auth.uid()), 'notifications.retried', 'notifications', null,
          jsonb_build_object('notification_id', n.id, 'status', 'failed', 'attempts', n.attempts,
                             'last_error', n.last_error),
          jsonb_build_object('notification_id', n.id, 'status', 'pending', 'next_attempt_at', now_));
  return n;
end
$$;
comment on function private.retry_message(bigint) is 'See public.retry_message.';
revoke execute on function private.retry_message(bigint) from public, anon;
grant execute on function private.retry_message(bigint) to authenticated;

create or replace function public.retry_message(message_id text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  if message_id is null or message_id !~ '^\s*\d{1,18}\s*$' then
    perform private.refuse(422,
      case when message_id is null then 'message_id is required'
           else format('message_id: %s is not a message id', private.quoted(message_id)) end,
      'Send message_id as the id of a message (a whole number).', 'message_id');
  end if;
  return private.retry_message(btrim(message_id)::bigint);
end
$$;
comment on function public.retry_message(text) is
$$Admins: sends a failed message again: back to pending, due now, for one more attempt (the dispatcher's next claim takes it; if it fails again it is failed again at once). Logged in audit_log (notifications.retried). Returns the message.
Arguments: message_id (the message's id, a whole number).
Errors: 403 PT403 not an admin; 404 PT404 no such message; 409 PT409 the message is not failed (a retry already queued it, or it was sent or voided), it announces a session that is no longer scheduled or was moved, or its session already started; 422 PT422 a missing or malformed message_id.$$;
revoke execute on function public.retry_message(text) from public, anon;
grant execute on function public.retry_message(text) to authenticated;
