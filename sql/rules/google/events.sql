-- Google Calendar, session events out: the calendar worker (`python -m sync.gcal`, its events
-- loop sync/gcal/events.py) drains private.calendar_jobs, which book, reschedule, cancel and
-- refunds queue in their own transactions. Per session, never two claims at once: the pending
-- jobs of a session collapse into one claim whose action comes from the session's CURRENT state
-- (scheduled, completed or a no-show: the event at its times; canceled: no event), so a retried
-- or late job can never bring back or move an event wrongly. What we wrote is kept in
-- private.calendar_events (changes.sql compares Google's events with it).
--
--   queued --claim--> in flight --calendar_job_done--> done (calendar_events updated)
--     |                  |-----calendar_job_failed--> due after a back-off; gave_up after the max
--     '-- mentor without a connected receiving calendar: skipped at once (last_error says why);
--         connecting (or choosing another receiving calendar) queues their future sessions again.
-- The public RPCs are in events_api.sql.

-- Google lets a client choose an event id: 5 to 1024 characters of base32hex (a-v, 0-9). The
-- session id's 16 bytes in base32hex, lowercase, unpadded: 26 characters, one event per session.
create or replace function private.google_event_id(session_id uuid)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  b bytea := pg_catalog.uuid_send(session_id);
  bits text := '';
  out text := '';
begin
  for i in 0..15 loop
    bits := bits || pg_catalog.get_byte(b, i)::bit(8)::text;
  end loop;
  bits := rpad(bits, 130, '0');
  for i in 0..25 loop
    out := out || substr('0123456789abcdefghijklmnopqrstuv', substr(bits, i * 5 + 1, 5)::bit(5)::integer + 1, 1);
  end loop;
  return out;
end
$$;
comment on function private.google_event_id(uuid) is
  'The Google Calendar event id of a session: its 16 bytes in base32hex (RFC 4648), lowercase, unpadded (26 characters).';
revoke execute on function private.google_event_id(uuid) from public, anon, authenticated;
grant execute on function private.google_event_id(uuid) to service_role;

-- The mentor's calendar that receives session events, when the grant is live; null otherwise.
create or replace function private.events_calendar_of(for_mentor_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select mc.calendar_id
    from public.mentor_calendars mc
    join private.google_credentials g on g.mentor_id = mc.mentor_id and g.revoked_at is null
   where mc.mentor_id = for_mentor_id and mc.receives_events;
$$;
comment on function private.events_calendar_of(uuid) is
  'The calendar receiving the mentor''s session events (Google connected, grant not revoked); null when there is none.';
revoke execute on function private.events_calendar_of(uuid) from public, anon, authenticated;

-- Upserts for a mentor's future sessions (not ended, not canceled) that have no pending job.
create or replace function private.queue_future_session_events(for_mentor_ids uuid[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n integer;
begin
  insert into private.calendar_jobs (session_id, mentor_id, action, requested_at)
  select s.id, s.mentor_id, 'upsert', private.clock_now()
    from public.sessions s
   where s.mentor_id = any(for_mentor_ids) and s.status = 'scheduled' and s.ends_at > private.clock_now()
     and not exists (select from private.calendar_jobs j where j.session_id = s.id and j.processed_at is null);
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function private.queue_future_session_events(uuid[]) is
  'Queues the calendar event of every future scheduled session of the mentors (connecting later still puts existing sessions in the calendar).';
revoke execute on function private.queue_future_session_events(uuid[]) from public, anon, authenticated;

-- A mentor connected (or reconnected) Google, or chose another calendar to receive events: their
-- future sessions go into it (the worker deletes an event from the calendar it was in before).
create or replace function private.tg_google_credentials__queue_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array[new.mentor_id]);
  return null;
end
$$;
comment on function private.tg_google_credentials__queue_events() is 'A stored grant: the mentor''s future sessions are queued into their calendar.';
revoke execute on function private.tg_google_credentials__queue_events() from public, anon, authenticated;

drop trigger if exists _200_queue_events on private.google_credentials;
create trigger _200_queue_events
  after insert or update of refresh_token_ciphertext on private.google_credentials
  for each row execute function private.tg_google_credentials__queue_events();

create or replace function private.tg_mentor_calendars__queue_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array(select distinct n.mentor_id from new_rows n where n.receives_events));
  return null;
end
$$;
comment on function private.tg_mentor_calendars__queue_events() is 'Calendars listed receiving events: the mentor''s future sessions are queued into it.';
revoke execute on function private.tg_mentor_calendars__queue_events() from public, anon, authenticated;

create or replace function private.tg_mentor_calendars__queue_moved_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array(
    select distinct n.mentor_id from new_rows n join old_rows o on o.id = n.id
     where n.receives_events and not o.receives_events));
  return null;
end
$$;
comment on function private.tg_mentor_calendars__queue_moved_events() is 'A calendar newly chosen to receive events: the mentor''s future sessions are queued into it.';
revoke execute on function private.tg_mentor_calendars__queue_moved_events() from public, anon, authenticated;

drop trigger if exists _200_queue_events_insert on public.mentor_calendars;
create trigger _200_queue_events_insert
  after insert on public.mentor_calendars
  referencing new table as new_rows
  for each statement execute function private.tg_mentor_calendars__queue_events();
drop trigger if exists _210_queue_events_update on public.mentor_calendars;
create trigger _210_queue_events_update
  after update on public.mentor_calendars
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.tg_mentor_calendars__queue_moved_events();

-- --- the worker's calls --------------------------------------------------------------------------

-- Claims the pending jobs of up to max_jobs sessions under a lease. Per session (a transaction
-- advisory lock, then a fresh look under it), never a second claim while one is in flight; all
-- its pending jobs are claimed together and answered with what the worker needs now. Jobs of a
-- mentor with no live receiving calendar, and of a session that ended before its event was ever
-- written, are finished first (outcome skipped, last_error why).
-- The claim's answer gained request_id: a column added to a function's result needs the older
-- shape dropped first (once; re-applying finds the new one and keeps it).
do $$
begin
  if exists (select from pg_catalog.pg_proc p
              where p.oid = pg_catalog.to_regprocedure('private.claim_calendar_jobs(text, integer, integer)')
                and not 'request_id' = any(p.proargnames)) then
    drop function private.claim_calendar_jobs(text, integer, integer);
  end if;
end
$$;
create or replace function private.claim_calendar_jobs(worker text, max_jobs integer, lease_seconds integer)
returns table (session_id uuid, mentor_id uuid, job_ids bigint[], attempts integer, action text,
               calendar_id text, written_calendar_id text, event_id text, refresh_token_sealed text,
               key_version integer, summary text, mentor_name text, student_name text,
               starts_at timestamptz, ends_at timestamptz, time_zone text, request_id text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  candidate record;
  ids bigint[];
  taken integer := 0;
begin
  update private.calendar_jobs j
     set processed_at = now_, outcome = 'skipped',
         last_error = 'the mentor has no Google Calendar connected that receives session events'
   where j.processed_at is null and (j.locked_until is null or j.locked_until <= now_)
     and private.events_calendar_of(j.mentor_id) is null;
  -- A session that ended before its event was ever written is not added to the calendar now (jobs
  -- left from before the mentor connected, or a worker that was down): one that has an event is
  -- still kept in step.
  update private.calendar_jobs j
     set processed_at = now_, outcome = 'skipped',
         last_error = 'the session ended before its event was written: past sessions are not added to the calendar'
   where j.processed_at is null and (j.locked_until is null or j.locked_until <= now_)
     and exists (select from public.sessions s where s.id = j.session_id and s.ends_at <= now_)
     and not exists (select from private.calendar_events e where e.session_id = j.session_id);
  for candidate in
    select j.session_id as sid, min(j.id) as first_id
      from private.calendar_jobs j
     where j.processed_at is null
     group by j.session_id
    having bool_and(j.locked_until is null or j.locked_until <= now_)
       and min(coalesce(j.next_attempt_at, j.requested_at)) <= now_
     order by min(j.id)
  loop
    exit when taken >= max_jobs;
    continue when not pg_catalog.pg_try_advisory_xact_lock(12, pg_catalog.hashtext(candidate.sid::text));
    -- Under the lock, a statement of its own sees every claim committed before.
    ids := array(select j.id from private.calendar_jobs j
                  where j.session_id = candidate.sid and j.processed_at is null
                  order by j.id for update);
    continue when cardinality(ids) = 0 or exists (
      select from private.calendar_jobs j
       where j.id = any(ids) and j.locked_until > now_);
    update private.calendar_jobs j
       set claimed_by = claim_calendar_jobs.worker, attempts = j.attempts + 1,
           locked_until = now_ + make_interval(secs => claim_calendar_jobs.lease_seconds)
     where j.id = any(ids);
    taken := taken + 1;
    return query
      select s.id, s.mentor_id, ids, (select max(j.attempts) from private.calendar_jobs j where j.id = any(ids)),
             case when s.status in ('canceled', 'late_canceled') then 'delete' else 'upsert' end,
             private.events_calendar_of(s.mentor_id), e.calendar_id, private.google_event_id(s.id),
             private.base64_text(g.refresh_token_ciphertext), g.key_version,
             format('%s: %s with %s', pr.title, coalesce(st.display_name, 'a student'), m.public_name),
             m.public_name, st.display_name, s.starts_at, s.ends_at, m.time_zone,
             (select j.request_id from private.calendar_jobs j where j.id = any(ids) order by j.id desc limit 1)
        from public.sessions s
        join public.mentors m on m.id = s.mentor_id
        join public.session_packs p on p.id = s.pack_id
        join public.mentorship_products pr on pr.id = p.product_id
        join private.google_credentials g on g.mentor_id = s.mentor_id
        left join public.profiles st on st.id = s.student_id
        left join private.calendar_events e on e.session_id = s.id
       where s.id = candidate.sid;
  end loop;
end
$$;
comment on function private.claim_calendar_jobs(text, integer, integer) is 'See public.claim_calendar_jobs.';
revoke execute on function private.claim_calendar_jobs(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_jobs(text, integer, integer) to service_role;

-- The jobs of the session this worker's claim holds (locked); 409 when it holds none.
create or replace function private.held_calendar_jobs(for_session_id uuid, worker text)
returns bigint[]
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[];
begin
  ids := array(select j.id from private.calendar_jobs j
                where j.session_id = for_session_id and j.processed_at is null
                  and j.claimed_by = worker and j.locked_until is not null
                order by j.id for update);
  if cardinality(ids) = 0 then
    perform private.refuse(409, format('no calendar job of session %s is claimed by %s', for_session_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out and another worker took it, or it was reported already: drop this result.');
  end if;
  return ids;
end
$$;
comment on function private.held_calendar_jobs(uuid, text) is 'The claimed jobs of the session when worker holds them, locked; 409 otherwise.';
revoke execute on function private.held_calendar_jobs(uuid, text) from public, anon, authenticated;

-- Google has the event as claimed: written (upsert: where, its times and etag) or gone (delete).
create or replace function private.calendar_job_done(for_session_id uuid, worker text, written jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[] := private.held_calendar_jobs(for_session_id, worker);
  w record;
begin
  if written is null then
    delete from private.calendar_events e where e.session_id = for_session_id;
  else
    begin
      select * into strict w
        from pg_catalog.jsonb_to_record(written)
          as x (calendar_id text, event_id text, starts_at timestamptz, ends_at timestamptz, etag text);
      insert into private.calendar_events as e (session_id, mentor_id, calendar_id, event_id, starts_at, ends_at, etag, written_at)
      select for_session_id, s.mentor_id, w.calendar_id, w.event_id, w.starts_at, w.ends_at, w.etag, private.clock_now()
        from public.sessions s where s.id = for_session_id
      on conflict (session_id) do update
        set calendar_id = excluded.calendar_id, event_id = excluded.event_id, starts_at = excluded.starts_at,
            ends_at = excluded.ends_at, etag = excluded.etag, written_at = excluded.written_at;
    exception
      when data_exception or integrity_constraint_violation then
        perform private.refuse(422, format('written is malformed (%s)', sqlerrm),
          hint => 'Send written as {calendar_id, event_id, starts_at, ends_at, etag}, or null for a deleted event.',
          details => 'written');
    end;
  end if;
  update private.calendar_jobs j
     set processed_at = private.clock_now(), outcome = 'done', last_error = null, locked_until = null
   where j.id = any(ids);
  return cardinality(ids);
end
$$;
comment on function private.calendar_job_done(uuid, text, jsonb) is 'See public.calendar_job_done.';
revoke execute on function private.calendar_job_done(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function private.calendar_job_done(uuid, text, jsonb) to service_role;

-- Google did not take it: the session's jobs are due again after a back-off (as the busy sync's,
-- with jitter), given up after platform_settings.calendar_job_max_attempts; invalid_grant is the
-- busy sync's rule (private.google_grant_revoked), and the jobs are skipped until a reconnect
-- queues them again.
create or replace function private.calendar_job_failed(for_session_id uuid, worker text, error text, grant_revoked boolean)
returns table (attempts integer, next_attempt_at timestamptz, outcome text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[] := private.held_calendar_jobs(for_session_id, worker);
  p public.platform_settings;
  tries integer;
  mentor uuid;
begin
  select * into p from public.platform_settings x where x.id;
  select max(j.attempts), min(j.mentor_id::text)::uuid into tries, mentor from private.calendar_jobs j where j.id = any(ids);
  if calendar_job_failed.grant_revoked then
    perform private.google_grant_revoked(mentor);
  end if;
  return query
    with changed as (
    update private.calendar_jobs j
       set last_error = left(calendar_job_failed.error, 2000), locked_until = null,
           processed_at = case when calendar_job_failed.grant_revoked or tries >= p.calendar_job_max_attempts
                               then private.clock_now() end,
           outcome = case when calendar_job_failed.grant_revoked then 'skipped'
                          when tries >= p.calendar_job_max_attempts then 'gave_up' end,
           next_attempt_at = private.clock_now()
                             + private.message_retry_delay(tries, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
     where j.id = any(ids)
    returning j.next_attempt_at, j.outcome)
    select tries, c.next_attempt_at, c.outcome from changed c limit 1;
end
$$;
comment on function private.calendar_job_failed(uuid, text, text, boolean) is 'See public.calendar_job_failed.';
revoke execute on function private.calendar_job_failed(uuid, text, text, boolean) from public, anon, authenticated;
grant execute on function private.calendar_job_failed(uuid, text, text, boolean) to service_role;
