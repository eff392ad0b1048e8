-- Google Calendar, push: events.watch channels on each watched calendar (counts as busy, or
-- receives session events) of a connected mentor, so that a change in Google makes the mentor's
-- sync due at once instead of at the next poll. The worker (`python -m sync.gcal`, only when
-- MENTORSHIPS_GOOGLE_WEBHOOK_URL is set) claims what to open and what to stop; POST
-- /webhooks/google hands each notification to google_push (push.sql), which checks the channel's
-- token and wakes the worker (pg_notify 'calendar_sync_due'). The public RPCs are channels_api.sql.
--
--   claimed (token handed out once) --opened--> live --renewal: a new one opened--> to stop --stopped--> stopped
--        '--failed / lease ran out--> stopped            '--expired------------------------------------^
--   disconnect or reconnect: to stop with the old grant (the services, before revoking it).

-- A token of 244 random bits (gen_random_uuid draws from pg_strong_random), as 64 hex digits.
create or replace function private.new_channel_token()
returns text
language sql
volatile
set search_path = ''
as $$
  select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;
comment on function private.new_channel_token() is 'A new push channel token: 64 hex digits, 244 random bits.';
revoke execute on function private.new_channel_token() from public, anon, authenticated;

-- How long after a successful sync the mentor is due again: at once when a change notification
-- arrived after the claim began (it may not be in what was listed; the worker is woken), the
-- longer safety-net interval when every busy calendar has a live channel, else the polling one.
create or replace function private.calendar_next_sync_in(for_mentor_id uuid)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  attempt timestamptz := (select s.last_attempt_at from private.calendar_sync_state s where s.mentor_id = for_mentor_id);
begin
  select * into p from public.platform_settings x where x.id;
  if exists (select from private.calendar_channels c
              where c.mentor_id = for_mentor_id and c.last_change_at >= attempt) then
    perform pg_notify('calendar_sync_due', for_mentor_id::text);
    return 0;
  end if;
  -- every watched calendar (busy, or receiving the session events whose edits come back) has a
  -- live channel, and there is one
  if exists (select from public.mentor_calendars mc
              where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events))
     and not exists (select from public.mentor_calendars mc
                  where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events)
                    and not exists (select from private.calendar_channels c
                                     where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id
                                       and c.opened_at is not null and c.stopped_at is null and not c.grant_gone
                                       and c.expires_at > now_)) then
    return least(p.calendar_push_sync_interval_seconds, p.calendar_stale_after_minutes * 30);
  end if;
  return p.calendar_sync_interval_seconds;
end
$$;
comment on function private.calendar_next_sync_in(uuid) is
  'Seconds until the mentor''s next sync after a successful one: 0 (and the worker woken) when a change notification came during the sync, the push safety-net interval when every watched calendar (busy or receiving events) has a live channel, else the polling interval.';
revoke execute on function private.calendar_next_sync_in(uuid) from public, anon, authenticated;
grant execute on function private.calendar_next_sync_in(uuid) to service_role;

-- --- the grant goes: its channels are stopped with it ------------------------------------------

-- A disconnect (the grant deleted) or a reconnect (a new grant: connected_at changes; a key
-- rotation re-seals the same grant and changes nothing here). Opened channels are left to the
-- services, which stop them with the queued old grant before revoking it; unopened ones stop.
create or replace function private.tg_google_credentials__channels_gone()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.connected_at is not distinct from old.connected_at then
    return null;
  end if;
  update private.calendar_channels c
     set grant_gone = true, stop_after = coalesce(c.stop_after, private.clock_now()),
         stop_reason = coalesce(c.stop_reason, 'the grant it was opened with is gone'),
         stopped_at = case when c.opened_at is null then private.clock_now() end,
         claimed_by = null, locked_until = null
   where c.mentor_id = old.mentor_id and c.stopped_at is null;
  return null;
end
$$;
comment on function private.tg_google_credentials__channels_gone() is
  'A grant removed or replaced: its push channels are to be stopped (by the services, with that grant, before it is revoked).';
revoke execute on function private.tg_google_credentials__channels_gone() from public, anon, authenticated;

drop trigger if exists _120_channels_gone on private.google_credentials;
create trigger _120_channels_gone
  after update of connected_at or delete on private.google_credentials
  for each row execute function private.tg_google_credentials__channels_gone();

-- --- the worker's calls ---------------------------------------------------------------------------

-- Up to max_channels things to do, leased to worker: 'open' a channel on a watched calendar that
-- has none (or only one expiring within calendar_channel_renew_before_seconds), with the channel
-- id and token chosen here (the token is handed out this once; only its sha256 is kept), or
-- 'stop' a channel replaced or no longer wanted (with its resourceId). Each with the mentor's
-- sealed grant. Channels past their expiry are stopped (Google stopped them), claims whose lease
-- ran out without a report are given up, channels of calendars no longer watched are to stop.
create or replace function private.claim_calendar_channels(worker text, max_channels integer, lease_seconds integer)
returns table (action text, channel_id uuid, mentor_id uuid, calendar_id text, token text, resource_id text,
               ttl_seconds integer, refresh_token_sealed text, key_version integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  lease timestamptz := now_ + make_interval(secs => lease_seconds);
  room integer := max_channels;
  r record;
  new_token text;
  new_id uuid;
begin
  select * into p from public.platform_settings x where x.id;
  -- housekeeping (idempotent)
  update private.calendar_channels c set stopped_at = c.expires_at, claimed_by = null, locked_until = null
   where c.stopped_at is null and c.expires_at <= now_;
  update private.calendar_channels c
     set stopped_at = now_, claimed_by = null, locked_until = null, failures = c.failures + 1,
         last_error = 'the claim''s lease ran out before Google''s answer was reported',
         retry_at = now_ + private.message_retry_delay(c.failures + 1, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
   where c.stopped_at is null and c.opened_at is null and c.locked_until <= now_;
  update private.calendar_channels c set stop_after = now_, stop_reason = 'the calendar is no longer watched'
   where c.stopped_at is null and c.stop_after is null and c.opened_at is not null
     and not exists (select from public.mentor_calendars mc
                      where mc.mentor_id = c.mentor_id and mc.calendar_id = c.calendar_id
                        and (mc.counts_as_busy or mc.receives_events));
  -- a revoked grant (invalid_grant) can stop nothing: its channels only run out
  update private.calendar_channels c set stopped_at = now_, stop_reason = coalesce(c.stop_reason, 'the grant was revoked')
   where c.stopped_at is null and c.stop_after is not null and not c.grant_gone
     and exists (select from private.google_credentials g where g.mentor_id = c.mentor_id and g.revoked_at is not null);

  -- stops first: they free Google's per-calendar channel quota
  for r in
    select c.id, c.mentor_id, c.calendar_id, c.resource_id from private.calendar_channels c
     where c.stop_after <= now_ and c.stopped_at is null and not c.grant_gone and c.opened_at is not null
       and (c.locked_until is null or c.locked_until <= now_) and (c.retry_at is null or c.retry_at <= now_)
     order by c.stop_after, c.id
     limit room
       for update skip locked
  loop
    update private.calendar_channels c set claimed_by = worker, locked_until = lease where c.id = r.id;
    action := 'stop'; channel_id := r.id; mentor_id := r.mentor_id; calendar_id := r.calendar_id;
    token := null; resource_id := r.resource_id; ttl_seconds := null;
    select private.base64_text(g.refresh_token_ciphertext), g.key_version into refresh_token_sealed, key_version
      from private.google_credentials g where g.mentor_id = r.mentor_id;
    room := room - 1;
    return next;
  end loop;

  for r in
    select mc.mentor_id, mc.calendar_id, g.refresh_token_ciphertext, g.key_version,
           (select f.failures from private.calendar_channels f
             where f.mentor_id = mc.mentor_id and f.calendar_id = mc.calendar_id
             order by f.created_at desc, f.id limit 1) as last_failures
      from public.mentor_calendars mc
      join private.google_credentials g on g.mentor_id = mc.mentor_id and g.revoked_at is null
      join private.calendar_sync_state s on s.mentor_id = mc.mentor_id and not s.grant_revoked
     where (mc.counts_as_busy or mc.receives_events)
       and not exists (select from private.calendar_channels c
                        where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id and c.stopped_at is null
                          and c.stop_after is null
                          and (c.opened_at is null or c.expires_at > now_ + make_interval(secs => p.calendar_channel_renew_before_seconds)))
       and not exists (select from private.calendar_channels c
                        where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id
                          and c.opened_at is null and c.retry_at > now_)
     order by mc.mentor_id, mc.calendar_id
     limit greatest(room, 0)
       for update of mc skip locked
  loop
    new_token := private.new_channel_token();
    insert into private.calendar_channels as c (mentor_id, calendar_id, token_sha256, created_at, claimed_by, locked_until, failures)
    values (r.mentor_id, r.calendar_id, sha256(convert_to(new_token, 'UTF8')), now_, worker, lease, coalesce(r.last_failures, 0))
    returning c.id into new_id;
    action := 'open'; channel_id := new_id; mentor_id := r.mentor_id; calendar_id := r.calendar_id;
    token := new_token; resource_id := null; ttl_seconds := p.calendar_channel_ttl_seconds;
    refresh_token_sealed := private.base64_text(r.refresh_token_ciphertext); key_version := r.key_version;
    return next;
  end loop;
end
$$;
comment on function private.claim_calendar_channels(text, integer, integer) is 'See public.claim_calendar_channels.';
revoke execute on function private.claim_calendar_channels(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_channels(text, integer, integer) to service_role;

-- The channel a report is about, locked, when worker holds its claim; 404/409 otherwise.
create or replace function private.held_channel_claim(for_channel_id uuid, worker text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  select * into c from private.calendar_channels x where x.id = for_channel_id for update;
  if not found then
    perform private.refuse(404, format('no watch channel %s', for_channel_id), hint => 'Report only channels claim_calendar_channels handed out.');
  end if;
  if c.claimed_by is distinct from worker or c.locked_until is null or c.stopped_at is not null then
    perform private.refuse(409, format('watch channel %s is not claimed by %s', for_channel_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out, it was reported already, or the grant went meanwhile: drop this result.');
  end if;
  return c;
end
$$;
comment on function private.held_channel_claim(uuid, text) is 'The channel, locked, when worker holds its claim; 404/409 otherwise.';
revoke execute on function private.held_channel_claim(uuid, text) from public, anon, authenticated;

-- Google accepted the watch: the channel is live until expires_at, and the one it replaces (any
-- other unstopped channel of the calendar) is to stop. A first channel on the calendar makes the
-- mentor's sync due at once (changes between the last sync and the watch were not notified).
create or replace function private.calendar_channel_opened(for_channel_id uuid, worker text, resource_id text, expires_at timestamptz)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  c private.calendar_channels;
  watched boolean;
  replaced integer;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  watched := exists (select from public.mentor_calendars mc
                      where mc.mentor_id = c.mentor_id and mc.calendar_id = c.calendar_id
                        and (mc.counts_as_busy or mc.receives_events));
  update private.calendar_channels x
     set opened_at = now_, resource_id = calendar_channel_opened.resource_id, expires_at = calendar_channel_opened.expires_at,
         claimed_by = null, locked_until = null, failures = 0, retry_at = null, last_error = null,
         stop_after = case when watched then null else now_ end,
         stop_reason = case when watched then null else 'the calendar is no longer watched' end
   where x.id = for_channel_id
  returning * into c;
  if watched then
    update private.calendar_channels x set stop_after = now_, stop_reason = format('replaced by channel %s', for_channel_id)
     where x.mentor_id = c.mentor_id and x.calendar_id = c.calendar_id and x.id <> for_channel_id
       and x.stopped_at is null and x.stop_after is null and x.opened_at is not null;
    get diagnostics replaced = row_count;
    if replaced = 0 then
      update private.calendar_sync_state s set next_sync_at = now_
       where s.mentor_id = c.mentor_id and s.next_sync_at > now_;
    end if;
  end if;
  return c;
end
$$;
comment on function private.calendar_channel_opened(uuid, text, text, timestamptz) is 'See public.calendar_channel_opened.';
revoke execute on function private.calendar_channel_opened(uuid, text, text, timestamptz) from public, anon, authenticated;
grant execute on function private.calendar_channel_opened(uuid, text, text, timestamptz) to service_role;

-- Stopped at Google (channels.stop answered, or 404: Google no longer knows it).
create or replace function private.calendar_channel_stopped(for_channel_id uuid, worker text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  if c.opened_at is null or c.stop_after is null then
    perform private.refuse(409, format('watch channel %s is not to be stopped', for_channel_id),
      hint => 'Report a stop only for a channel claimed with action stop.');
  end if;
  update private.calendar_channels x set stopped_at = private.clock_now(), claimed_by = null, locked_until = null, last_error = null
   where x.id = for_channel_id
  returning * into c;
  return c;
end
$$;
comment on function private.calendar_channel_stopped(uuid, text) is 'See public.calendar_channel_stopped.';
revoke execute on function private.calendar_channel_stopped(uuid, text) from public, anon, authenticated;
grant execute on function private.calendar_channel_stopped(uuid, text) to service_role;

-- Opening or stopping failed: an unopened channel is given up (the calendar is tried again after
-- a back-off, doubling per failure in a row as the sync's); a stop is retried after the back-off.
create or replace function private.calendar_channel_failed(for_channel_id uuid, worker text, error text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  c private.calendar_channels;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  select * into p from public.platform_settings x where x.id;
  update private.calendar_channels x
     set failures = x.failures + 1, last_error = left(calendar_channel_failed.error, 2000),
         claimed_by = null, locked_until = null,
         stopped_at = case when x.opened_at is null then now_ end,
         retry_at = now_ + private.message_retry_delay(x.failures + 1, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
   where x.id = for_channel_id
  returning * into c;
  return c;
end
$$;
comment on function private.calendar_channel_failed(uuid, text, text) is 'See public.calendar_channel_failed.';
revoke execute on function private.calendar_channel_failed(uuid, text, text) from public, anon, authenticated;
grant execute on function private.calendar_channel_failed(uuid, text, text) to service_role;
