-- Google Calendar, changes made in Google come back: the calendar sync lists the receiving
-- calendar too (busy.sql), and calendar_synced hands this file what it saw of our session events.
-- An event deleted in Google, or whose times differ from what WE LAST WROTE (calendar_events, not
-- the session's current times: a reschedule whose patch is still queued is not the mentor's
-- edit), of a future scheduled session with no job pending, flags the session
-- (public.calendar_event_changes) and tells the mentor (calendar_event_changed). Nothing is
-- canceled automatically: the mentor chooses with resolve_calendar_change (cancel, credit
-- restored; or restore, the event put back at the session's time).

-- What one listed calendar showed of our events. ours: [{event_id, starts_at, ends_at}] (the live
-- events carrying our private marker); cancelled_event_ids: the ids Google listed as cancelled; a
-- full list (is_full) also tells by absence: one of ours within its window that it did not list
-- is gone. Only events we wrote before the claim (claimed_at) are judged: a write after it may be
-- newer than the list.
create or replace function private.calendar_changes_seen(for_mentor_id uuid, for_calendar_id text, is_full boolean,
                                                         time_min timestamptz, time_max timestamptz, ours jsonb,
                                                         cancelled_event_ids jsonb, claimed_at timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  seen record;
  s public.sessions;
  flag public.calendar_event_changes;
  n integer := 0;
begin
  for seen in
    select e.session_id, o.starts_at as google_starts_at, o.ends_at as google_ends_at,
           case when o.event_id is null then 'deleted' else 'moved' end as change
      from private.calendar_events e
      left join pg_catalog.jsonb_to_recordset(ours) as o (event_id text, starts_at timestamptz, ends_at timestamptz)
        on o.event_id = e.event_id
     where e.mentor_id = for_mentor_id and e.calendar_id = for_calendar_id and e.written_at < claimed_at
       and ((o.event_id is not null and (o.starts_at <> e.starts_at or o.ends_at <> e.ends_at))
            or (o.event_id is null and e.event_id in (select pg_catalog.jsonb_array_elements_text(cancelled_event_ids)))
            or (o.event_id is null and is_full and e.ends_at > time_min and e.starts_at < time_max))
     order by e.session_id
  loop
    select * into s from public.sessions x where x.id = seen.session_id;
    continue when not found or s.status <> 'scheduled' or s.ends_at <= now_;
    continue when exists (select from private.calendar_jobs j where j.session_id = s.id and j.processed_at is null);
    update public.calendar_event_changes c
       set change = seen.change, google_starts_at = seen.google_starts_at, google_ends_at = seen.google_ends_at,
           noticed_at = now_
     where c.session_id = s.id and c.resolved_at is null
    returning * into flag;
    if not found then
      insert into public.calendar_event_changes (session_id, mentor_id, change, google_starts_at, google_ends_at, noticed_at)
      values (s.id, s.mentor_id, seen.change, seen.google_starts_at, seen.google_ends_at, now_)
      returning * into flag;
      perform private.notify(array[s.mentor_id], 'calendar_event_changed', format('calendar_event_changed:%s', flag.id),
        private.session_payload(s) || jsonb_build_object('change', flag.change, 'change_id', flag.id,
          'google_starts_at', flag.google_starts_at, 'google_ends_at', flag.google_ends_at),
        null, s.id);
    end if;
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.calendar_changes_seen(uuid, text, boolean, timestamptz, timestamptz, jsonb, jsonb, timestamptz) is
  'Flags the sessions whose event the mentor deleted or moved in Google (compared with what we last wrote; none with a job pending) and tells the mentor once per flag.';
revoke execute on function private.calendar_changes_seen(uuid, text, boolean, timestamptz, timestamptz, jsonb, jsonb, timestamptz)
  from public, anon, authenticated;

-- The mentor's choice about a flagged session: cancel (the existing cancel rule, as the mentor:
-- credit restored) or restore (an upsert queued: the event goes back to the session's time).
create or replace function private.resolve_calendar_change(for_session_id uuid, choice text)
returns public.calendar_event_changes
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  s public.sessions;
  flag public.calendar_event_changes;
begin
  if choice is null or choice not in ('cancel', 'restore') then
    perform private.refuse(422, format('choice: %s is not cancel or restore', coalesce(private.quoted(choice), 'nothing')),
      hint => 'Send choice as cancel (the session is canceled, credit restored) or restore (the event is put back).',
      details => 'choice');
  end if;
  select * into s from public.sessions x where x.id = for_session_id;
  if not found then
    perform private.refuse(404, format('no session %s', for_session_id), details => 'session_id');
  end if;
  if s.mentor_id is distinct from (select auth.uid()) and not private.is_admin() then
    perform private.refuse(403, 'this session is not yours', details => 'session_id');
  end if;
  select * into flag from public.calendar_event_changes c
   where c.session_id = s.id and c.resolved_at is null for update;
  if not found then
    perform private.refuse(409, 'the session''s calendar event has no change to resolve',
      hint => 'Only a session whose event was deleted or moved in Google (calendar_event_changes, open) has a choice.',
      details => 'session_id');
  end if;
  if choice = 'cancel' then
    perform private.cancel_session(s.id, 'the event was deleted or moved in Google Calendar');
  else
    insert into private.calendar_jobs (session_id, mentor_id, action, requested_at)
    values (s.id, s.mentor_id, 'upsert', private.clock_now());
  end if;
  update public.calendar_event_changes c set resolved_at = private.clock_now(), resolution = choice
   where c.id = flag.id
  returning * into flag;
  return flag;
end
$$;
comment on function private.resolve_calendar_change(uuid, text) is 'See public.resolve_calendar_change.';
revoke execute on function private.resolve_calendar_change(uuid, text) from public, anon;
grant execute on function private.resolve_calendar_change(uuid, text) to authenticated;

create or replace function public.resolve_calendar_change(session_id text default null, choice text default null)
returns public.calendar_event_changes
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.resolve_calendar_change(private.uuid_arg(session_id, 'session_id'),
                                         private.text_arg(choice, 'choice', 20, required => true));
end
$$;
comment on function public.resolve_calendar_change(text, text) is
$$The session's mentor (or an admin): what to do about a session whose Google Calendar event was deleted or moved in Google (an open row of calendar_event_changes). cancel: the session is canceled as a mentor cancels it (credit restored, both told). restore: the event is put back at the session's time (the calendar worker writes it). Answers the resolved row.
Arguments: session_id (UUID), choice (cancel or restore).
Errors: 403 PT403 not your session; 404 PT404 no such session; 409 PT409 no open change for it (or the cancel rule's: already started); 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.resolve_calendar_change(text, text) from public, anon;
grant execute on function public.resolve_calendar_change(text, text) to authenticated;
