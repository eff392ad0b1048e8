-- The outbox: every message is queued in the same transaction as the change that causes it,
-- one row per channel (email always; Discord when the person linked an account), deduplicated
-- by event key so that a retried change queues nothing twice.
-- (The single-recipient version it replaced.)
drop function if exists private.notify(uuid, public.notification_kind, text, jsonb, timestamptz, uuid, uuid);

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
declare
  queued integer;
begin
  insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload, send_after, session_id, pack_id)
  select pr.id, notify.kind, c.channel,
         notify.event_key || ':' || pr.id || ':' || c.channel,
         coalesce(notify.payload, '{}'), coalesce(notify.send_after, private.clock_now()),
         notify.session_id, notify.pack_id
    from public.profiles pr
   cross join (values ('email'::public.notification_channel), ('discord'::public.notification_channel)) c (channel)
   where pr.id = any(notify.recipient_ids)
     and (c.channel = 'email' or pr.discord_user_id is not null)
  on conflict (dedupe_key) do nothing;
  get diagnostics queued = row_count;
  return queued;
end
$$;
comment on function private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid) is
  'Queues one message per recipient and channel; the event key makes it idempotent.';
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

-- Reminders 24 h and 1 h before the start, to both participants; none whose time has passed
-- (one due this instant still goes out).
-- The key carries the reschedule count, so a moved session gets fresh reminders.
-- (The one-argument version it replaced.)
drop function if exists private.queue_reminders(public.sessions);

create or replace function private.queue_reminders(s public.sessions, payload jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  r record;
begin
  for r in
    select * from (values ('session_reminder_24h'::public.notification_kind, interval '24 hours'),
                          ('session_reminder_1h'::public.notification_kind, interval '1 hour')) v (kind, lead)
  loop
    if s.starts_at - r.lead >= now_ then
      perform private.notify(array[s.student_id, s.mentor_id], r.kind,
                             format('session:%s:v%s:%s', s.id, s.reschedule_count, r.kind),
                             payload, s.starts_at - r.lead, s.id);
    end if;
  end loop;
end
$$;
comment on function private.queue_reminders(public.sessions, jsonb) is
  'Queues the 24 h and 1 h reminders of a scheduled session (payload: its session_payload) for its student and mentor.';
revoke execute on function private.queue_reminders(public.sessions, jsonb) from public, anon, authenticated;

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
