-- People choose which messages reach them (public.notification_preferences). Which kinds may be
-- turned off is one rule, private.message_kind_optional: the write check
-- (sql/rules/input_checks.sql), the queueing rule (private.notify_many in sql/rules/notify.sql),
-- the unsubscribe link (public.unsubscribe, below) and the list a dashboard draws
-- (public.my_notification_preferences) all read it. sync/messaging/unsubscribe.py mirrors it for
-- the List-Unsubscribe header, and a test holds the two together.
--
-- Optional: the reminders before a session (24 h, 1 h) and the nudges to buy again
-- (renewal_reminder, one_session_left): missing one costs nothing the person did not already
-- know. Never optional: what a person paid for or did (pack_purchased, refund_processed), a
-- session changed by someone (booked, rescheduled, canceled: with the calendar invite), the
-- seat's grace period and release (losing the seat costs them), and the admins' alerts
-- (payment_flagged, delivery_failed).

create or replace function private.message_kind_optional(kind public.notification_kind)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select kind in ('session_reminder_24h', 'session_reminder_1h', 'renewal_reminder', 'one_session_left')
$$;
comment on function private.message_kind_optional(public.notification_kind) is
  'Whether people may turn this kind of message off (reminders and renewal nudges); the one list of them.';
revoke execute on function private.message_kind_optional(public.notification_kind) from public, anon;
grant execute on function private.message_kind_optional(public.notification_kind) to authenticated, service_role;

create or replace function private.optional_message_kinds()
returns public.notification_kind[]
language sql
stable
parallel safe
set search_path = ''
as $$
  select pg_catalog.array_agg(k order by k)
    from pg_catalog.unnest(pg_catalog.enum_range(null::public.notification_kind)) k
   where private.message_kind_optional(k)
$$;
comment on function private.optional_message_kinds() is
  'The kinds private.message_kind_optional accepts, in the enum''s order (for messages and listings).';
revoke execute on function private.optional_message_kinds() from public, anon;
grant execute on function private.optional_message_kinds() to authenticated, service_role;

-- Refuses a kind that may not be turned off: 422 naming the field, listing the ones that may.
create or replace function private.check_optional_kind(kind public.notification_kind, field text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if not private.message_kind_optional(kind) then
    perform private.refuse(422, format('%s: %s messages may not be turned off', field, kind),
      hint => format('Only these kinds may be turned off: %s.',
                     pg_catalog.array_to_string(private.optional_message_kinds(), ', ')),
      details => field);
  end if;
end
$$;
comment on function private.check_optional_kind(public.notification_kind, text) is
  'Refuses (422 naming field) a kind of message that may not be turned off, listing those that may.';
revoke execute on function private.check_optional_kind(public.notification_kind, text) from public, anon;
grant execute on function private.check_optional_kind(public.notification_kind, text) to authenticated, service_role;

-- Turning a kind off also voids that person's messages of that kind and channel that are queued
-- and not yet sent (a reminder queued at booking time would otherwise still go out). Turning it
-- back on brings none back: only messages queued from then on.
create or replace function private.tg_notification_preferences__void_pending()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.notifications n
     set status = 'voided', voided_at = private.clock_now()
   where n.recipient_id = new.user_id and n.kind = new.kind and n.channel = new.channel
     and n.status = 'pending';
  return null;
end
$$;
comment on function private.tg_notification_preferences__void_pending() is
  'Voids the pending messages of a kind and channel a person just turned off.';
revoke execute on function private.tg_notification_preferences__void_pending() from public, anon, authenticated;

drop trigger if exists _200_void_pending on public.notification_preferences;
create trigger _200_void_pending
  after insert or update of user_id, kind, channel, enabled on public.notification_preferences
  for each row when (not new.enabled)
  execute function private.tg_notification_preferences__void_pending();

-- The one-click unsubscribe link (POST /messages/unsubscribe, after the services verified its
-- signed token): turns the kind off on that channel for that person. Idempotent.
create or replace function private.unsubscribe(
  user_id uuid, kind public.notification_kind, channel public.notification_channel)
returns public.notification_preferences
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.notification_preferences;
begin
  perform private.check_optional_kind(unsubscribe.kind, 'kind');
  if not exists (select from public.profiles x where x.id = unsubscribe.user_id) then
    perform private.refuse(404, format('no profile with id %s', unsubscribe.user_id), details => 'user_id',
      hint => 'The account this link was sent to no longer exists.');
  end if;
  insert into public.notification_preferences as np (user_id, kind, channel, enabled)
  values (unsubscribe.user_id, unsubscribe.kind, unsubscribe.channel, false)
  on conflict on constraint notification_preferences_user_id_kind_channel_key
  do update set enabled = false where np.enabled
  returning * into p;
  if p is null then  -- it was off already: nothing changed
    select * into p from public.notification_preferences x
     where x.user_id = unsubscribe.user_id and x.kind = unsubscribe.kind and x.channel = unsubscribe.channel;
  end if;
  return p;
end
$$;
comment on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel) is
  'See public.unsubscribe: turns one optional kind of message off for a person on one channel.';
revoke execute on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel)
  from public, anon, authenticated;
grant execute on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel)
  to service_role;

-- What a dashboard draws: every kind that may be turned off, on every channel, with the caller's
-- setting (on unless they turned it off).
create or replace function private.my_notification_preferences()
returns table (kind public.notification_kind, channel public.notification_channel, enabled boolean,
               updated_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select k.kind, c.channel, coalesce(p.enabled, true), p.updated_at
    from pg_catalog.unnest(private.optional_message_kinds()) k (kind)
   cross join pg_catalog.unnest(pg_catalog.enum_range(null::public.notification_channel)) c (channel)
    left join public.notification_preferences p
      on p.user_id = (select auth.uid()) and p.kind = k.kind and p.channel = c.channel
   order by k.kind, c.channel
$$;
comment on function private.my_notification_preferences() is
  'See public.my_notification_preferences: each optional kind and channel with the caller''s setting.';
revoke execute on function private.my_notification_preferences() from public, anon;
grant execute on function private.my_notification_preferences() to authenticated;
