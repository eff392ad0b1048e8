-- The outbox: every message is queued in the same transaction as the change that causes it,
-- one row per channel (email always; Discord when the person linked an account) unless the
-- person turned that kind off on that channel (public.notification_preferences, only for kinds
-- private.message_kind_optional allows: sql/rules/preferences.sql), deduplicated by event key so
-- that a retried change queues nothing twice.
-- (The single-recipient version it replaced.)
drop function if exists private.notify(uuid, public.notification_kind, text, jsonb, timestamptz, uuid, uuid);

-- Several messages to the same people in one insert: message i is (kinds[i], event_keys[i],
-- send_afters[i], null for now), all with the same payload. A booking queues its confirmation and
-- both reminders this way, one statement instead of three. A recipient who is not a person (null,
-- or deleted meanwhile) is skipped: the outbox has no foreign keys (see migration
-- 20261121140000_queue_links.sql), and a person's messages go with them (below).
create or replace function private.notify_many(
  recipient_ids uuid[],
  kinds public.notification_kind[],
  event_keys text[],
  send_afters timestamptz[],
  payload jsonb default '{}',
  session_id uuid default null,
  pack_id uuid default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
-- The insert's generic plan is the right one, but the plan cache would price it for arrays of
-- unknown length against custom plans for two recipients and plan it again at every call
-- (~0.3 ms, more than the insert).
set plan_cache_mode = force_generic_plan
as $$
declare
  now_ timestamptz := private.clock_now();
  queued integer;
begin
  -- created_at given too: the instant read above, not the column's default, which would read the
  -- clock again for every message (~8 us each, nine per booking)
  insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload, send_after, session_id, pack_id,
                                    created_at)
  select r.id, msg.kind, c.channel,
         msg.event_key || ':' || r.id || ':' || c.channel,
         coalesce(notify_many.payload, '{}'), coalesce(msg.send_after, now_),
         notify_many.session_id, notify_many.pack_id, now_
    from pg_catalog.unnest(notify_many.recipient_ids) r (id)
   -- how many channels the person has: 0 (no such person: skipped), 1 (email) or 2 (and Discord);
   -- a subquery per recipient, so the plan reads profiles by primary key whatever its size
   cross join lateral (
     select (select case when p.discord_user_id is null then 1 else 2 end
               from public.profiles p where p.id = r.id) as channels) k
   cross join (values ('email'::public.notification_channel, 1), ('discord'::public.notification_channel, 2)) c (channel, rank)
   cross join rows from (pg_catalog.unnest(notify_many.kinds), pg_catalog.unnest(notify_many.event_keys),
                         pg_catalog.unnest(notify_many.send_afters)) msg (kind, event_key, send_after)
   where c.rank <= k.channels
     -- the person turned this kind off on this channel (a kind that is no longer optional is
     -- sent whatever an old preference says)
     and not (private.message_kind_optional(msg.kind)
              and exists (select from public.notification_preferences np
                           where np.user_id = r.id and np.kind = msg.kind and np.channel = c.channel
                             and not np.enabled))
  on conflict (dedupe_key) do nothing;
  get diagnostics queued = row_count;
  return queued;
end
$$;
comment on function private.notify_many(uuid[], public.notification_kind[], text[], timestamptz[], jsonb, uuid, uuid) is
  'Queues messages (kinds, event_keys, send_afters: one entry each) to every recipient on every channel they have and did not turn that kind off on, in one insert; event keys make it idempotent.';
revoke execute on function private.notify_many(uuid[], public.notification_kind[], text[], timestamptz[], jsonb, uuid, uuid)
  from public, anon, authenticated;

create or replace function private.notify(
  recipient_ids uuid[],
  kind public.notification_kind,
  event_key text,
  payload jsonb default '{}',
  send_after timestamptz default null,
  session_id uuid default null,
  pack_id uuid default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return private.notify_many(recipient_ids, array[kind], array[event_key], array[send_after], payload,
                             session_id, pack_id);
end
$$;
comment on function private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid) is
  'Queues one message per recipient and channel (skipping the channels where they turned this kind off); the event key makes it idempotent.';
revoke execute on function private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid)
  from public, anon, authenticated;

create or replace function private.session_payload(s public.sessions)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'session_id', s.id, 'pack_id', s.pack_id, 'mentor_id', s.mentor_id, 'student_id', s.student_id,
    'mentor_name', (select m.public_name from public.mentors m where m.id = s.mentor_id),
    'student_name', (select p.display_name from public.profiles p where p.id = s.student_id),
    'starts_at', s.starts_at, 'ends_at', s.ends_at, 'status', s.status);
end
$$;
comment on function private.session_payload(public.sessions) is
  'Template data for a session message (times in UTC; the dispatcher renders them in the reader''s zone).';
revoke execute on function private.session_payload(public.sessions) from public, anon, authenticated;

-- A session's change message (booked, rescheduled) and its reminders 24 h and 1 h before the
-- start, to both participants, in one insert; no reminder whose time has passed (one due this
-- instant still goes out). The reminder keys carry the reschedule count, so a moved session gets
-- fresh reminders.
-- (The versions it replaced.)
drop function if exists private.queue_reminders(public.sessions);
drop function if exists private.queue_reminders(public.sessions, jsonb);

create or replace function private.queue_session_messages(
  s public.sessions, payload jsonb, kind public.notification_kind, event_key text)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  kinds public.notification_kind[] := array[kind];
  keys text[] := array[event_key];
  send_afters timestamptz[] := array[null::timestamptz];
begin
  if s.starts_at - interval '24 hours' >= now_ then
    kinds := kinds || 'session_reminder_24h'::public.notification_kind;
    keys := keys || format('session:%s:v%s:session_reminder_24h', s.id, s.reschedule_count);
    send_afters := send_afters || (s.starts_at - interval '24 hours');
  end if;
  if s.starts_at - interval '1 hour' >= now_ then
    kinds := kinds || 'session_reminder_1h'::public.notification_kind;
    keys := keys || format('session:%s:v%s:session_reminder_1h', s.id, s.reschedule_count);
    send_afters := send_afters || (s.starts_at - interval '1 hour');
  end if;
  return private.notify_many(array[s.student_id, s.mentor_id], kinds, keys, send_afters, payload, s.id);
end
$$;
comment on function private.queue_session_messages(public.sessions, jsonb, public.notification_kind, text) is
  'Queues a session''s change message (kind, event_key; sent now) and its 24 h and 1 h reminders for its student and mentor (payload: its session_payload).';
revoke execute on function private.queue_session_messages(public.sessions, jsonb, public.notification_kind, text)
  from public, anon, authenticated;

create or replace function private.void_reminders(session_id uuid)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  voided integer;
begin
  update public.notifications n
     set status = 'voided', voided_at = private.clock_now()
   where n.session_id = void_reminders.session_id
     and n.kind in ('session_reminder_24h', 'session_reminder_1h')
     and n.status = 'pending';
  get diagnostics voided = row_count;
  return voided;
end
$$;
comment on function private.void_reminders(uuid) is 'Voids the pending reminders of a session (canceled, moved or over).';
revoke execute on function private.void_reminders(uuid) from public, anon, authenticated;

-- "One session left": when a pack's credits drop to one.
create or replace function private.tg_session_packs__one_session_left()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.notify(array[new.student_id], 'one_session_left', format('pack:%s:one_session_left', new.id),
                         jsonb_build_object('pack_id', new.id, 'mentor_id', new.mentor_id,
                                            'remaining_sessions', new.remaining_sessions),
                         null, null, new.id);
  return null;
end
$$;
comment on function private.tg_session_packs__one_session_left() is
  'Queues the one-session-left message when remaining_sessions drops to 1.';
revoke execute on function private.tg_session_packs__one_session_left() from public, anon, authenticated;

drop trigger if exists _200_one_session_left on public.session_packs;
create trigger _200_one_session_left
  after update of remaining_sessions on public.session_packs
  for each row when (new.remaining_sessions = 1 and old.remaining_sessions > 1)
  execute function private.tg_session_packs__one_session_left();

-- A person's messages go with them (the outbox has no foreign key to do it).
create or replace function private.tg_profiles__delete_messages()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.notifications n where n.recipient_id = old.id;
  return null;
end
$$;
comment on function private.tg_profiles__delete_messages() is 'Deletes the messages of a deleted person.';
revoke execute on function private.tg_profiles__delete_messages() from public, anon, authenticated;

drop trigger if exists _200_delete_messages on public.profiles;
create trigger _200_delete_messages
  after delete on public.profiles
  for each row execute function private.tg_profiles__delete_messages();
