-- Google Calendar, busy times in: the sync worker (`python -m sync.gcal`) claims mentors whose
-- sync is due, lists their busy calendars' events at Google and hands the result back in one
-- call that replaces their busy intervals in one transaction (availability never sees half a
-- sync), or reports a failure (back-off per mentor; invalid_grant: the grant is marked revoked
-- and the mentor told). Fail closed: a connected mentor whose last successful sync is older than
-- platform_settings.calendar_stale_after_minutes, or whose grant was revoked, offers no slots
-- (availability.sql) and is not bookable (booking/slots.sql), through private.calendar_closed.
-- The public RPCs are beside this file (busy_api.sql).
--
--   connect --> due (never synced: closed) --claim--> syncing --calendar_synced--> fresh, due again later
--                                                       |-----calendar_sync_failed--> due after a back-off
--                                                       '-----invalid_grant-------> revoked (closed until reconnect)

-- Why a mentor offers no slots now (null: they do). One look-up of the sync state by primary key
-- (no row: not connected, nothing to wait for) and the one settings row.
create or replace function private.calendar_closed(for_mentor_id uuid, now_ timestamptz)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
  stale_after interval;
begin
  select * into s from private.calendar_sync_state x where x.mentor_id = for_mentor_id;
  if not found then
    return null;
  end if;
  if s.grant_revoked then
    return 'the mentor''s Google Calendar connection stopped working, so their busy times are unknown';
  end if;
  if s.last_synced_at is null then
    return 'the mentor''s Google Calendar has not been synced yet, so their busy times are unknown';
  end if;
  stale_after := make_interval(mins => (select p.calendar_stale_after_minutes from public.platform_settings p where p.id));
  if s.last_synced_at <= now_ - stale_after then
    return format('the mentor''s Google Calendar was last synced at %s UTC, more than %s minutes ago, so their busy times are unknown',
                  to_char(s.last_synced_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), extract(epoch from stale_after)::integer / 60);
  end if;
  return null;
end
$$;
comment on function private.calendar_closed(uuid, timestamptz) is
  'Why the mentor''s slots are closed at now_ (Google Calendar connected but its sync stale, never done, or the grant revoked); null when they are not.';
revoke execute on function private.calendar_closed(uuid, timestamptz) from public, anon, authenticated;
grant execute on function private.calendar_closed(uuid, timestamptz) to service_role;

-- --- connecting and choosing start the sync ----------------------------------------------------

-- A (re)connect: the sync state is due at once and closed until the first sync succeeds (a new
-- grant may be another Google account: the old tokens and intervals are not its).
create or replace function private.tg_google_credentials__sync_state()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.calendar_sync_state as s (mentor_id, next_sync_at)
  values (new.mentor_id, private.clock_now())
  on conflict (mentor_id) do update
    set next_sync_at = excluded.next_sync_at, last_synced_at = null, failures = 0, last_error = null,
        claimed_by = null, locked_until = null, grant_revoked = false;
  delete from private.calendar_sync_calendars c where c.mentor_id = new.mentor_id;
  return null;
end
$$;
comment on function private.tg_google_credentials__sync_state() is
  'A stored grant (connect or reconnect): the mentor''s calendar sync is due at once, closed until it succeeds, and starts from full lists.';
revoke execute on function private.tg_google_credentials__sync_state() from public, anon, authenticated;

drop trigger if exists _100_sync_state on private.google_credentials;
create trigger _100_sync_state
  after insert or update of refresh_token_ciphertext on private.google_credentials
  for each row execute function private.tg_google_credentials__sync_state();

-- A disconnect: the per-calendar tokens go with the grant (the state and intervals already go).
create or replace function private.tg_google_credentials__forget_tokens()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from private.calendar_sync_calendars c where c.mentor_id = old.mentor_id;
  return null;
end
$$;
comment on function private.tg_google_credentials__forget_tokens() is 'A removed grant: its calendars'' sync tokens are deleted.';
revoke execute on function private.tg_google_credentials__forget_tokens() from public, anon, authenticated;

drop trigger if exists _110_forget_tokens on private.google_credentials;
create trigger _110_forget_tokens
  after delete on private.google_credentials
  for each row execute function private.tg_google_credentials__forget_tokens();

-- The mentor chose other busy calendars: sync at once (the new ones are listed; the intervals of
-- those no longer busy go with that sync).
create or replace function private.tg_mentor_calendars__sync_due()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.calendar_sync_state s set next_sync_at = private.clock_now()
   where s.mentor_id in (select distinct c.mentor_id from changed c) and s.next_sync_at > private.clock_now();
  return null;
end
$$;
comment on function private.tg_mentor_calendars__sync_due() is 'Busy calendars chosen anew: the mentor''s sync is due at once.';
revoke execute on function private.tg_mentor_calendars__sync_due() from public, anon, authenticated;

drop trigger if exists _100_sync_due on public.mentor_calendars;
create trigger _100_sync_due
  after update on public.mentor_calendars
  referencing new table as changed
  for each statement execute function private.tg_mentor_calendars__sync_due();

-- --- the worker's calls --------------------------------------------------------------------------

-- Claims up to max_mentors whose sync is due (rows another worker holds are skipped, not waited
-- for) under a lease, with what the worker needs: the sealed grant, and per busy calendar either
-- its sync token (incremental) or, for a full list, the window to list: from a day back to the
-- mentor's booking horizon plus 30 days. A token whose window no longer reaches a day past the
-- horizon is dropped (a full list of the new window), so the horizon is always covered.
create or replace function private.claim_calendar_syncs(worker text, max_mentors integer, lease_seconds integer)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, calendars jsonb)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
begin
  return query
    with picked as (
      select s.mentor_id from private.calendar_sync_state s
       where s.next_sync_at <= now_ and not s.grant_revoked
         and (s.locked_until is null or s.locked_until <= now_)
       order by s.next_sync_at, s.mentor_id
       limit max_mentors
         for update skip locked),
    claimed as (
      update private.calendar_sync_state s
         set claimed_by = claim_calendar_syncs.worker, last_attempt_at = now_,
             locked_until = now_ + make_interval(secs => claim_calendar_syncs.lease_seconds)
        from picked p
       where s.mentor_id = p.mentor_id
      returning s.mentor_id)
    select c.mentor_id, private.base64_text(g.refresh_token_ciphertext), g.key_version,
           coalesce((
             select jsonb_agg(jsonb_build_object(
                      'calendar_id', mc.calendar_id,
                      'busy', mc.counts_as_busy,
                      'time_zone', coalesce(mc.time_zone, m.time_zone),
                      'sync_token', case when t.window_ends_at >= now_ + make_interval(days => m.booking_horizon_days + 1)
                                         then t.sync_token end,
                      'time_min', now_ - interval '1 day',
                      'time_max', now_ + make_interval(days => m.booking_horizon_days + 30))
                    order by mc.calendar_id)
               from public.mentor_calendars mc
               left join private.calendar_sync_calendars t
                 on t.mentor_id = mc.mentor_id and t.calendar_id = mc.calendar_id
              where mc.mentor_id = c.mentor_id and (mc.counts_as_busy or mc.receives_events)), '[]'::jsonb)
      from claimed c
      join private.google_credentials g on g.mentor_id = c.mentor_id
      join public.mentors m on m.id = c.mentor_id
     order by c.mentor_id;
end
$$;
comment on function private.claim_calendar_syncs(text, integer, integer) is 'See public.claim_calendar_syncs.';
revoke execute on function private.claim_calendar_syncs(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_syncs(text, integer, integer) to service_role;

-- The claim a report must hold: this worker's, not taken over since. Locks the state row.
create or replace function private.held_calendar_claim(for_mentor_id uuid, worker text)
returns private.calendar_sync_state
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
begin
  select * into s from private.calendar_sync_state x where x.mentor_id = for_mentor_id for update;
  if not found then
    perform private.refuse(404, format('mentor %s has no Google Calendar connected', for_mentor_id),
      hint => 'The mentor disconnected meanwhile: nothing to report.');
  end if;
  if s.claimed_by is distinct from worker or s.locked_until is null then
    perform private.refuse(409, format('the calendar sync of mentor %s is not claimed by %s', for_mentor_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out and another worker took it, or it was reported already: drop this result.');
  end if;
  return s;
end
$$;
comment on function private.held_calendar_claim(uuid, text) is 'The mentor''s sync state, locked, when worker holds its claim; 404/409 otherwise.';
revoke execute on function private.held_calendar_claim(uuid, text) from public, anon, authenticated;
grant execute on function private.held_calendar_claim(uuid, text) to service_role;

-- A whole sync of one mentor, in one transaction. Per busy calendar the worker listed:
--   {calendar_id, sync_token (the new nextSyncToken), full (true: a full list of the window
--    time_min..time_max, which replaces the calendar's intervals; false: the changes since the
--    token), changed_event_ids (incremental: every event id Google returned), intervals
--    [{event_id, starts_at, ends_at}] (the busy ones among them)}
-- Intervals of calendars no longer busy go. The mentor is fresh (last_synced_at) only when every
-- busy calendar has been listed; a calendar chosen after the claim makes the sync due again at once.
create or replace function private.calendar_synced(for_mentor_id uuid, worker text, calendars jsonb)
returns table (mentor_id uuid, busy_intervals integer, last_synced_at timestamptz, next_sync_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  -- polling, the push safety net, or 0 when a change was notified meanwhile (channels.sql)
  interval_seconds integer := private.calendar_next_sync_in(for_mentor_id);
  cal record;
  busy text[];
  listed text[];
  claimed_at timestamptz;
  complete boolean;
begin
  claimed_at := (private.held_calendar_claim(for_mentor_id, worker)).last_attempt_at;
  busy := array(select mc.calendar_id from public.mentor_calendars mc
                 where mc.mentor_id = for_mentor_id and mc.counts_as_busy);
  listed := array(select mc.calendar_id from public.mentor_calendars mc
                   where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events));
  begin
    for cal in
      select c.calendar_id, c.sync_token, coalesce(c."full", false) as is_full, c.time_min, c.time_max,
             coalesce(c.changed_event_ids, '[]') as changed_event_ids, coalesce(c.intervals, '[]') as intervals,
             coalesce(c.ours, '[]') as ours, coalesce(c.cancelled_event_ids, '[]') as cancelled_event_ids
        from pg_catalog.jsonb_to_recordset(calendars)
               as c (calendar_id text, sync_token text, "full" boolean, time_min timestamptz, time_max timestamptz,
                     changed_event_ids jsonb, intervals jsonb, ours jsonb, cancelled_event_ids jsonb)
    loop
      if cal.calendar_id is null or cal.sync_token is null or (cal.is_full and (cal.time_min is null or cal.time_max is null)) then
        perform private.refuse(422, 'each calendar needs calendar_id and sync_token, and a full one time_min and time_max',
          hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids, intervals}].', details => 'calendars');
      end if;
      continue when not (cal.calendar_id = any(listed));  -- no longer listed: its state goes below
      -- Our session events as Google has them now (changes.sql): a deletion or a move made in Google.
      perform private.calendar_changes_seen(for_mentor_id, cal.calendar_id, cal.is_full, cal.time_min, cal.time_max,
                                            cal.ours, cal.cancelled_event_ids, claimed_at);
      if cal.calendar_id = any(busy) then
        if cal.is_full then
          delete from private.calendar_busy_intervals b
           where b.mentor_id = for_mentor_id and b.calendar_id = cal.calendar_id;
        else
          delete from private.calendar_busy_intervals b
           where b.mentor_id = for_mentor_id and b.calendar_id = cal.calendar_id
             and b.source_event_id in (select pg_catalog.jsonb_array_elements_text(cal.changed_event_ids));
        end if;
        insert into private.calendar_busy_intervals (mentor_id, calendar_id, source_event_id, starts_at, ends_at, synced_at)
        select for_mentor_id, cal.calendar_id, i.event_id, i.starts_at, i.ends_at, now_
          from pg_catalog.jsonb_to_recordset(cal.intervals) as i (event_id text, starts_at timestamptz, ends_at timestamptz)
         where i.ends_at > i.starts_at;
      end if;
      if cal.is_full then
        insert into private.calendar_sync_calendars as t (mentor_id, calendar_id, sync_token, window_starts_at, window_ends_at, last_synced_at)
        values (for_mentor_id, cal.calendar_id, cal.sync_token, cal.time_min, cal.time_max, now_)
        on conflict on constraint calendar_sync_calendars_pkey do update
          set sync_token = excluded.sync_token, last_synced_at = excluded.last_synced_at,
              window_starts_at = excluded.window_starts_at, window_ends_at = excluded.window_ends_at;
      else
        -- (no row: its token went meanwhile, a reconnect; the calendar is listed in full next)
        update private.calendar_sync_calendars t set sync_token = cal.sync_token, last_synced_at = now_
         where t.mentor_id = for_mentor_id and t.calendar_id = cal.calendar_id;
      end if;
    end loop;
  exception
    when data_exception or integrity_constraint_violation then
      perform private.refuse(422, format('calendars is malformed (%s)', sqlerrm),
        hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids: [ids], intervals: [{event_id, starts_at, ends_at}]}].',
        details => 'calendars');
  end;
  delete from private.calendar_busy_intervals b
   where b.mentor_id = for_mentor_id and (b.calendar_id is null or not (b.calendar_id = any(busy)));
  delete from private.calendar_sync_calendars t
   where t.mentor_id = for_mentor_id and not (t.calendar_id = any(listed));
  complete := not exists (select from pg_catalog.unnest(busy) b (id)
                           where not exists (select from private.calendar_sync_calendars t
                                              where t.mentor_id = for_mentor_id and t.calendar_id = b.id));
  return query
    update private.calendar_sync_state s
       set last_synced_at = case when complete then now_ else s.last_synced_at end,
           next_sync_at = case when complete then now_ + make_interval(secs => interval_seconds) else now_ end,
           failures = 0, last_error = null, claimed_by = null, locked_until = null
     where s.mentor_id = for_mentor_id
    returning s.mentor_id,
              (select count(*)::integer from private.calendar_busy_intervals b where b.mentor_id = for_mentor_id),
              s.last_synced_at, s.next_sync_at;
end
$$;
comment on function private.calendar_synced(uuid, text, jsonb) is 'See public.calendar_synced.';
revoke execute on function private.calendar_synced(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function private.calendar_synced(uuid, text, jsonb) to service_role;

-- Google answered invalid_grant (the busy sync or a session event): the grant is marked revoked,
-- the mentor's sync stops and their slots stay closed until they reconnect, and they are told
-- once per grant (email and Discord, with a link to reconnect).
create or replace function private.google_grant_revoked(for_mentor_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  g private.google_credentials;
begin
  update private.google_credentials x set revoked_at = coalesce(x.revoked_at, private.clock_now())
   where x.mentor_id = for_mentor_id
  returning * into g;
  if not found then
    return;
  end if;
  update private.calendar_sync_state x set grant_revoked = true where x.mentor_id = for_mentor_id;
  perform private.notify(array[for_mentor_id], 'calendar_disconnected',
    format('calendar_disconnected:%s:%s', for_mentor_id, extract(epoch from g.connected_at)),
    jsonb_build_object('mentor_id', for_mentor_id, 'revoked_at', g.revoked_at, 'connected_at', g.connected_at));
end
$$;
comment on function private.google_grant_revoked(uuid) is
  'Google refused the mentor''s grant (invalid_grant): marked revoked, the sync stopped (slots closed), the mentor told once per grant.';
revoke execute on function private.google_grant_revoked(uuid) from public, anon, authenticated;

-- A failed sync: back-off per mentor, d = min(base * 2^(failures - 1), max) seconds with its second
-- half drawn at random (private.message_retry_delay, as the outbox's). invalid_grant: Google will
-- not take the grant again; it is marked revoked, the sync stops, the mentor's slots stay closed,
-- and the mentor is told once per grant (email and Discord, with a link to reconnect).
create or replace function private.calendar_sync_failed(for_mentor_id uuid, worker text, error text, grant_revoked boolean)
returns private.calendar_sync_state
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  s private.calendar_sync_state;
begin
  s := private.held_calendar_claim(for_mentor_id, worker);
  select * into p from public.platform_settings x where x.id;
  update private.calendar_sync_state x
     set failures = x.failures + 1, last_error = left(calendar_sync_failed.error, 2000),
         claimed_by = null, locked_until = null,
         grant_revoked = x.grant_revoked or calendar_sync_failed.grant_revoked,
         next_sync_at = now_ + private.message_retry_delay(x.failures + 1, p.calendar_retry_base_seconds,
                                                           p.calendar_retry_max_seconds)
   where x.mentor_id = for_mentor_id
  returning * into s;
  if calendar_sync_failed.grant_revoked then
    perform private.google_grant_revoked(for_mentor_id);
  end if;
  return s;
end
$$;
comment on function private.calendar_sync_failed(uuid, text, text, boolean) is 'See public.calendar_sync_failed.';
revoke execute on function private.calendar_sync_failed(uuid, text, text, boolean) from public, anon, authenticated;
grant execute on function private.calendar_sync_failed(uuid, text, text, boolean) to service_role;

-- What admins (and the service role) see of every connected mentor's sync.
create or replace function private.calendar_sync_status()
returns table (mentor_id uuid, public_name text, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.is_admin() or (select auth.role()) = 'service_role') then
    perform private.refuse(403, 'only admins see every mentor''s calendar sync', hint => 'Sign in with an admin account.');
  end if;
  return query
    select s.mentor_id, m.public_name, g.connected_at, g.revoked_at, s.last_synced_at, s.next_sync_at,
           s.failures, s.last_error, private.calendar_closed(s.mentor_id, private.clock_now())
      from private.calendar_sync_state s
      join public.mentors m on m.id = s.mentor_id
      left join private.google_credentials g on g.mentor_id = s.mentor_id
     order by s.grant_revoked desc, s.last_synced_at nulls first, s.mentor_id;
end
$$;
comment on function private.calendar_sync_status() is 'See public.calendar_sync_status.';
revoke execute on function private.calendar_sync_status() from public, anon;
grant execute on function private.calendar_sync_status() to authenticated, service_role;
