-- Google Calendar, connecting (GET /oauth/google/start and /callback, POST /oauth/google/disconnect,
-- `mentorships gcal rotate-key`). The services hold the Google client and the token keys; the
-- rules here decide who may connect, that a consent state is good once, what is stored, and which
-- calendars a mentor may choose. Refresh tokens arrive sealed (AES-GCM, sync/gcal/sealing.py) as
-- base64 text and are stored as bytea; no rule can open them. The public wrappers are beside
-- this file (connect_api.sql, not api.sql), and what serves the stored grants is tokens.sql.

-- bytea as one line of base64 (encode() breaks lines every 76 characters).
create or replace function private.base64_text(value bytea)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select pg_catalog.translate(pg_catalog.encode(value, 'base64'), E'\n', '') $$;
comment on function private.base64_text(bytea) is 'value as base64 on one line.';
revoke execute on function private.base64_text(bytea) from public;
grant execute on function private.base64_text(bytea) to service_role;

-- A sealed token as the services send it: base64 of at least a nonce and a tag (28 bytes).
create or replace function private.sealed_arg(value text, field text)
returns bytea
language plpgsql
immutable
set search_path = ''
as $$
declare
  sealed bytea;
begin
  if value is null or length(value) not between 40 and 8000 or value !~ '^[A-Za-z0-9+/]+={0,2}$' then
    perform private.refuse(422, format('%s is missing or not base64', field),
      hint => format('Send %s as the base64 of the sealed token (sync/gcal/sealing.py).', field), details => field);
  end if;
  sealed := pg_catalog.decode(value, 'base64');
  return sealed;
exception when invalid_parameter_value then
  perform private.refuse(422, format('%s is not base64', field),
    hint => format('Send %s as the base64 of the sealed token (sync/gcal/sealing.py).', field), details => field);
  return null;
end
$$;
comment on function private.sealed_arg(text, text) is 'A sealed token sent as base64, as bytea; 422 naming field otherwise.';
revoke execute on function private.sealed_arg(text, text) from public;
grant execute on function private.sealed_arg(text, text) to service_role;

-- --- start and callback --------------------------------------------------------------------------

create or replace function private.begin_google_connect()
returns table (nonce text, mentor_id uuid, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  -- Two version 4 UUIDs: 244 bits from the server's strong random source.
  n text := pg_catalog.replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  until timestamptz := private.clock_now() + interval '10 minutes';
begin
  if me is null or not exists (select from public.mentors m where m.id = me) then
    perform private.refuse(403, 'only mentors connect a Google Calendar',
      hint => 'Sign in with a mentor account (profiles.role mentor, with a mentor profile).');
  end if;
  delete from private.google_oauth_states s where s.mentor_id = me and s.expires_at <= private.clock_now();
  if (select count(*) from private.google_oauth_states s where s.mentor_id = me) >= 20 then
    perform private.refuse(429, 'too many Google connections started and not finished (20 in 10 minutes)',
      hint => 'Finish one at Google, or wait 10 minutes.');
  end if;
  insert into private.google_oauth_states (nonce, mentor_id, expires_at) values (n, me, until);
  return query select n, me, until;
end
$$;
comment on function private.begin_google_connect() is
  'See public.begin_google_connect: records a one-time consent state for the calling mentor.';
revoke execute on function private.begin_google_connect() from public, anon;
grant execute on function private.begin_google_connect() to authenticated;

create or replace function private.claim_google_state(nonce text, mentor_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  until timestamptz;
begin
  delete from private.google_oauth_states s
   where s.nonce = claim_google_state.nonce and s.mentor_id = claim_google_state.mentor_id
  returning s.expires_at into until;
  if not found then
    perform private.refuse(400, 'state: it was already used, or was never issued to this mentor',
      hint => 'Start again at GET /oauth/google/start.', details => 'state');
  end if;
  if until <= private.clock_now() then
    perform private.refuse(400, format('state: it expired at %s', until),
      hint => 'Start again at GET /oauth/google/start.', details => 'state');
  end if;
  return claim_google_state.mentor_id;
end
$$;
comment on function private.claim_google_state(text, uuid) is
  'See public.claim_google_state: takes a consent state (once).';
revoke execute on function private.claim_google_state(text, uuid) from public, anon, authenticated;
grant execute on function private.claim_google_state(text, uuid) to service_role;

-- The calendar list as Google's calendarList.list items: [{id, summary, primary, accessRole,
-- timeZone}, ...]. Kept choices stay; on the first list (or when the chosen calendars are gone)
-- the primary calendar counts as busy and receives the events.
create or replace function private.store_google_calendars(mentor_id uuid, calendars jsonb)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  item jsonb;
begin
  if calendars is null or pg_catalog.jsonb_typeof(calendars) <> 'array' then
    perform private.refuse(422, 'calendars must be an array of calendarList entries',
      hint => 'Send calendars as [{"id", "summary", "primary", "accessRole", "timeZone"}, ...].', details => 'calendars');
  end if;
  for item in select * from pg_catalog.jsonb_array_elements(calendars) loop
    if pg_catalog.jsonb_typeof(item -> 'id') is distinct from 'string'
       or coalesce(item ->> 'accessRole', '') not in ('freeBusyReader', 'reader', 'writer', 'owner') then
      perform private.refuse(422, 'calendars: an entry without a string id or a known accessRole',
        hint => 'Send each entry with id (text) and accessRole (freeBusyReader, reader, writer or owner).', details => 'calendars');
    end if;
  end loop;
  perform from public.mentors m where m.id = store_google_calendars.mentor_id for update;
  if not found then
    perform private.refuse(404, format('no mentor with id %s', store_google_calendars.mentor_id), details => 'mentor_id');
  end if;
  delete from public.mentor_calendars c
   where c.mentor_id = store_google_calendars.mentor_id
     and c.calendar_id not in (select e ->> 'id' from pg_catalog.jsonb_array_elements(calendars) e);
  insert into public.mentor_calendars as c (mentor_id, calendar_id, summary, is_primary, access_role, time_zone, listed_at)
  select store_google_calendars.mentor_id, e ->> 'id', left(coalesce(e ->> 'summary', ''), 1024),
         coalesce((e ->> 'primary')::boolean, false), e ->> 'accessRole', left(e ->> 'timeZone', 64), private.clock_now()
    from pg_catalog.jsonb_array_elements(calendars) e
  on conflict on constraint mentor_calendars_mentor_calendar_key do update
    set summary = excluded.summary, is_primary = excluded.is_primary, access_role = excluded.access_role,
        time_zone = excluded.time_zone, listed_at = excluded.listed_at,
        receives_events = c.receives_events and excluded.access_role in ('writer', 'owner');
  if not exists (select from public.mentor_calendars c
                  where c.mentor_id = store_google_calendars.mentor_id and (c.counts_as_busy or c.receives_events)) then
    update public.mentor_calendars c set counts_as_busy = true, receives_events = c.access_role in ('writer', 'owner')
     where c.mentor_id = store_google_calendars.mentor_id and c.is_primary;
  end if;
  update private.google_credentials g
     set calendar_id = coalesce((select c.calendar_id from public.mentor_calendars c
                                  where c.mentor_id = g.mentor_id and c.receives_events), 'primary')
   where g.mentor_id = store_google_calendars.mentor_id;
  return query select * from public.mentor_calendars c
                where c.mentor_id = store_google_calendars.mentor_id order by not c.is_primary, c.calendar_id;
end
$$;
comment on function private.store_google_calendars(uuid, jsonb) is
  'See public.store_google_calendars: replaces a mentor''s calendar list, keeping the choices.';
revoke execute on function private.store_google_calendars(uuid, jsonb) from public, anon, authenticated;
grant execute on function private.store_google_calendars(uuid, jsonb) to service_role;

create or replace function private.google_connected(mentor_id uuid, sealed bytea, key_version integer,
                                                    scopes text[], calendars jsonb)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform from public.mentors m where m.id = google_connected.mentor_id for update;
  if not found then
    perform private.refuse(404, format('no mentor with id %s', google_connected.mentor_id), details => 'mentor_id');
  end if;
  -- A grant this one replaces is revoked at Google too (a reconnect must not leave it alive).
  insert into private.google_revocations (mentor_id, refresh_token_ciphertext, key_version)
  select g.mentor_id, g.refresh_token_ciphertext, g.key_version
    from private.google_credentials g where g.mentor_id = google_connected.mentor_id;
  insert into private.google_credentials as g (mentor_id, refresh_token_ciphertext, key_version, scopes, connected_at, revoked_at)
  values (google_connected.mentor_id, sealed, google_connected.key_version, google_connected.scopes, private.clock_now(), null)
  on conflict on constraint google_credentials_pkey do update
    set refresh_token_ciphertext = excluded.refresh_token_ciphertext, key_version = excluded.key_version,
        scopes = excluded.scopes, connected_at = excluded.connected_at, revoked_at = null;
  return query select * from private.store_google_calendars(google_connected.mentor_id, calendars);
end
$$;
comment on function private.google_connected(uuid, bytea, integer, text[], jsonb) is
  'See public.google_connected: stores a mentor''s sealed grant and calendar list.';
revoke execute on function private.google_connected(uuid, bytea, integer, text[], jsonb) from public, anon, authenticated;
grant execute on function private.google_connected(uuid, bytea, integer, text[], jsonb) to service_role;

-- --- the mentor's choice -------------------------------------------------------------------------

create or replace function private.choose_google_calendars(busy_calendar_ids text[], events_calendar_id text)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  unknown text;
begin
  if not exists (select from private.google_credentials g where g.mentor_id = me) then
    perform private.refuse(409, 'no Google Calendar is connected',
      hint => 'Connect one first: GET /oauth/google/start.');
  end if;
  select b into unknown from pg_catalog.unnest(busy_calendar_ids) b
   where not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = b) limit 1;
  if found then
    perform private.refuse(422, format('busy_calendar_ids: %s is not one of your calendars', private.quoted(unknown)),
      hint => 'Send calendar ids from your mentor_calendars rows.', details => 'busy_calendar_ids');
  end if;
  if not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = events_calendar_id) then
    perform private.refuse(422, format('events_calendar_id: %s is not one of your calendars', private.quoted(events_calendar_id)),
      hint => 'Send a calendar id from your mentor_calendars rows.', details => 'events_calendar_id');
  end if;
  if not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = events_calendar_id
                    and c.access_role in ('writer', 'owner')) then
    perform private.refuse(422, format('events_calendar_id: you cannot write to %s', private.quoted(events_calendar_id)),
      hint => 'Choose a calendar whose access_role is writer or owner.', details => 'events_calendar_id');
  end if;
  -- (Two steps: at most one calendar of a mentor receives events at any moment. The chosen one
  -- keeps its flag when it had it, so choosing it again queues none of its events again.)
  update public.mentor_calendars c
     set counts_as_busy = c.calendar_id = any (busy_calendar_ids),
         receives_events = c.receives_events and c.calendar_id = events_calendar_id
   where c.mentor_id = me;
  update public.mentor_calendars c set receives_events = true
   where c.mentor_id = me and c.calendar_id = events_calendar_id and not c.receives_events;
  update private.google_credentials g set calendar_id = events_calendar_id where g.mentor_id = me;
  return query select * from public.mentor_calendars c where c.mentor_id = me
                order by not c.is_primary, c.calendar_id;
end
$$;
comment on function private.choose_google_calendars(text[], text) is
  'See public.choose_google_calendars.';
revoke execute on function private.choose_google_calendars(text[], text) from public, anon;
grant execute on function private.choose_google_calendars(text[], text) to authenticated;

-- --- disconnect and revocation -------------------------------------------------------------------

create or replace function private.disconnect_google()
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  revocation bigint;
begin
  if me is null or not exists (select from public.mentors m where m.id = me) then
    perform private.refuse(403, 'only mentors connect a Google Calendar',
      hint => 'Sign in with a mentor account (profiles.role mentor, with a mentor profile).');
  end if;
  with gone as (delete from private.google_credentials g where g.mentor_id = me returning g.*)
  insert into private.google_revocations (mentor_id, refresh_token_ciphertext, key_version)
  select gone.mentor_id, gone.refresh_token_ciphertext, gone.key_version from gone
  returning id into revocation;
  delete from public.mentor_calendars c where c.mentor_id = me;
  delete from private.calendar_busy_intervals b where b.mentor_id = me;
  delete from private.calendar_sync_state s where s.mentor_id = me;
  delete from private.google_oauth_states s where s.mentor_id = me;
  return revocation;
end
$$;
comment on function private.disconnect_google() is 'See public.disconnect_google.';
revoke execute on function private.disconnect_google() from public, anon;
grant execute on function private.disconnect_google() to authenticated;
