-- Google Calendar, connecting (GET /oauth/google/start and /callback, POST /oauth/google/disconnect,
-- `mentorships gcal rotate-key`). The services hold the Google client and the token keys; the
-- rules here decide who may connect, that a consent state is good once, what is stored, and which
-- calendars a mentor may choose. Refresh tokens arrive sealed (AES-GCM, sync/gcal/sealing.py) as
-- base64 text and are stored as bytea; no rule can open them. The public wrappers are here (not
-- in api.sql) so that the whole connection reads in one file.

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
  on conflict on constraint mentor_calendars_pkey do update
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
  update public.mentor_calendars c
     set counts_as_busy = c.calendar_id = any (busy_calendar_ids), receives_events = false
   where c.mentor_id = me;
  update public.mentor_calendars c set receives_events = true
   where c.mentor_id = me and c.calendar_id = events_calendar_id;
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

-- --- the public RPCs -----------------------------------------------------------------------------

create or replace function public.begin_google_connect()
returns table (nonce text, mentor_id uuid, expires_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.begin_google_connect();
end
$$;
comment on function public.begin_google_connect() is
$$Mentors (GET /oauth/google/start calls it with your token): records a one-time consent state, good for 10 minutes; the services sign it into Google's consent URL.
Errors: 403 PT403 you are not a mentor; 429 PT429 20 connections started and not finished.$$;
revoke execute on function public.begin_google_connect() from public, anon;
grant execute on function public.begin_google_connect() to authenticated;

create or replace function public.claim_google_state(nonce text default null, mentor_id text default null)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.claim_google_state(private.text_arg(nonce, 'nonce', 64, required => true),
    private.uuid_arg(mentor_id, 'mentor_id'));
end
$$;
comment on function public.claim_google_state(text, text) is
$$Service role (GET /oauth/google/callback): takes the consent state begin_google_connect recorded, once. Returns the mentor id.
Arguments: nonce (the signed state's), mentor_id (UUID).
Errors: 400 PT400 the state was already used, never issued to this mentor, or expired (details state); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_google_state(text, text) from public, anon, authenticated;
grant execute on function public.claim_google_state(text, text) to service_role;

create or replace function public.google_connected(mentor_id text default null, refresh_token_sealed text default null,
                                                   key_version text default null, scopes jsonb default null,
                                                   calendars jsonb default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  if scopes is null or pg_catalog.jsonb_typeof(scopes) <> 'array'
     or exists (select from pg_catalog.jsonb_array_elements(scopes) s where pg_catalog.jsonb_typeof(s) <> 'string') then
    perform private.refuse(422, 'scopes must be an array of texts', hint => 'Send scopes as the granted scopes, e.g. ["https://www.googleapis.com/auth/calendar.events"].', details => 'scopes');
  end if;
  return query select * from private.google_connected(private.uuid_arg(mentor_id, 'mentor_id'),
    private.sealed_arg(refresh_token_sealed, 'refresh_token_sealed'),
    private.integer_arg(key_version, 'key_version', 1, 1000000),
    array(select pg_catalog.jsonb_array_elements_text(scopes)), calendars);
end
$$;
comment on function public.google_connected(text, text, text, jsonb, jsonb) is
$$Service role (GET /oauth/google/callback): stores the mentor's sealed refresh token (a grant it replaces is queued for revocation) and calendar list in one transaction. Returns the calendars.
Arguments: mentor_id (UUID), refresh_token_sealed (base64 of the AES-GCM sealed token), key_version (1 to 1000000), scopes (array of texts), calendars (calendarList items).
Errors: 404 PT404 no such mentor; 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.google_connected(text, text, text, jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.google_connected(text, text, text, jsonb, jsonb) to service_role;

create or replace function public.store_google_calendars(mentor_id text default null, calendars jsonb default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.store_google_calendars(private.uuid_arg(mentor_id, 'mentor_id'), calendars);
end
$$;
comment on function public.store_google_calendars(text, jsonb) is
$$Service role: replaces a mentor's calendar list with Google's (calendarList items), keeping the mentor's choices; the primary calendar is the default for both. Returns the calendars.
Errors: 404 PT404 no such mentor; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.store_google_calendars(text, jsonb) from public, anon, authenticated;
grant execute on function public.store_google_calendars(text, jsonb) to service_role;

create or replace function public.choose_google_calendars(busy_calendar_ids jsonb default null,
                                                          events_calendar_id text default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  if busy_calendar_ids is null or pg_catalog.jsonb_typeof(busy_calendar_ids) <> 'array'
     or exists (select from pg_catalog.jsonb_array_elements(busy_calendar_ids) b where pg_catalog.jsonb_typeof(b) <> 'string') then
    perform private.refuse(422, 'busy_calendar_ids must be an array of calendar ids',
      hint => 'Send busy_calendar_ids as an array of your mentor_calendars calendar ids (may be empty).', details => 'busy_calendar_ids');
  end if;
  return query select * from private.choose_google_calendars(
    array(select pg_catalog.jsonb_array_elements_text(busy_calendar_ids)),
    private.text_arg(events_calendar_id, 'events_calendar_id', 1024, required => true));
end
$$;
comment on function public.choose_google_calendars(jsonb, text) is
$$Mentors: which of your Google calendars count as busy (no slots offered during their events) and which one receives session events. Returns your calendars.
Arguments: busy_calendar_ids (array of calendar ids, may be empty), events_calendar_id (a calendar you may write to).
Errors: 409 PT409 no Google Calendar connected; 422 PT422 a calendar that is not yours or not writable, missing or malformed argument (details names it).$$;
revoke execute on function public.choose_google_calendars(jsonb, text) from public, anon;
grant execute on function public.choose_google_calendars(jsonb, text) to authenticated;

create or replace function public.disconnect_google()
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.disconnect_google();
end
$$;
comment on function public.disconnect_google() is
$$Mentors: disconnects your Google Calendar: the grant is queued for revocation at Google (POST /oauth/google/disconnect revokes it at once), your calendars, busy times and sync state are removed. Returns the revocation's number, null when nothing was connected.
Errors: 403 PT403 you are not a mentor.$$;
revoke execute on function public.disconnect_google() from public, anon;
grant execute on function public.disconnect_google() to authenticated;

create or replace function public.google_revocations_due(for_mentor_id text default null)
returns table (revocation_id bigint, mentor_id uuid, refresh_token_sealed text, key_version integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  only_mentor uuid := private.uuid_arg(for_mentor_id, 'for_mentor_id', required => false);
begin
  return query select r.id, r.mentor_id, private.base64_text(r.refresh_token_ciphertext), r.key_version
                 from private.google_revocations r
                where only_mentor is null or r.mentor_id = only_mentor
                order by r.id;
end
$$;
comment on function public.google_revocations_due(text) is
$$Service role: the sealed grants waiting to be revoked at Google (for_mentor_id's, or all).
Errors: 422 PT422 malformed for_mentor_id.$$;
revoke execute on function public.google_revocations_due(text) from public, anon, authenticated;
grant execute on function public.google_revocations_due(text) to service_role;

create or replace function public.google_revoked(revocation_id text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  delete from private.google_revocations r
   where r.id = private.integer_arg(revocation_id, 'revocation_id', 1, 2147483647);
  return found;
end
$$;
comment on function public.google_revoked(text) is
$$Service role: Google took the revocation (or already knew the grant dead): its sealed token is deleted. Returns whether it was still there.
Errors: 422 PT422 missing or malformed revocation_id.$$;
revoke execute on function public.google_revoked(text) from public, anon, authenticated;
grant execute on function public.google_revoked(text) to service_role;

create or replace function public.google_credentials_of(for_mentor_id text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, scopes text[],
               calendar_id text, connected_at timestamptz, revoked_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query select g.mentor_id, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.scopes,
                      g.calendar_id, g.connected_at, g.revoked_at
                 from private.google_credentials g
                where g.mentor_id = private.uuid_arg(for_mentor_id, 'for_mentor_id');
end
$$;
comment on function public.google_credentials_of(text) is
$$Service role (the calendar sync): for_mentor_id's sealed grant (no row when not connected).
Errors: 422 PT422 missing or malformed for_mentor_id.$$;
revoke execute on function public.google_credentials_of(text) from public, anon, authenticated;
grant execute on function public.google_credentials_of(text) to service_role;

-- --- key rotation ----------------------------------------------------------------------------------

create or replace function public.google_tokens_to_reseal(newest_version text default null, max_rows text default null)
returns table (kind text, id text, refresh_token_sealed text, key_version integer, mentor_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  newest integer := private.integer_arg(newest_version, 'newest_version', 1, 1000000);
  n integer := private.integer_arg(max_rows, 'max_rows', 1, 10000);
begin
  return query
    (select 'credential', g.mentor_id::text, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.mentor_id
       from private.google_credentials g where g.key_version <> newest order by g.mentor_id limit n)
    union all
    (select 'revocation', r.id::text, private.base64_text(r.refresh_token_ciphertext), r.key_version, r.mentor_id
       from private.google_revocations r where r.key_version <> newest order by r.id limit n);
end
$$;
comment on function public.google_tokens_to_reseal(text, text) is
$$Service role (`mentorships gcal rotate-key`): up to max_rows stored grants and up to max_rows queued revocations not sealed under newest_version.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_tokens_to_reseal(text, text) from public, anon, authenticated;
grant execute on function public.google_tokens_to_reseal(text, text) to service_role;

create or replace function public.reseal_google_token(kind text default null, id text default null,
                                                      previous_sealed text default null,
                                                      refresh_token_sealed text default null,
                                                      key_version text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  previous bytea := private.sealed_arg(previous_sealed, 'previous_sealed');
  sealed bytea := private.sealed_arg(refresh_token_sealed, 'refresh_token_sealed');
  version integer := private.integer_arg(reseal_google_token.key_version, 'key_version', 1, 1000000);
begin
  -- Compare and set: a grant replaced meanwhile (a reconnect) is left as it is.
  if kind = 'credential' then
    update private.google_credentials g set refresh_token_ciphertext = sealed, key_version = version
     where g.mentor_id = private.uuid_arg(reseal_google_token.id, 'id') and g.refresh_token_ciphertext = previous;
  elsif kind = 'revocation' then
    update private.google_revocations r set refresh_token_ciphertext = sealed, key_version = version
     where r.id = private.integer_arg(reseal_google_token.id, 'id', 1, 2147483647) and r.refresh_token_ciphertext = previous;
  else
    perform private.refuse(422, 'kind must be credential or revocation', hint => 'Send kind as google_tokens_to_reseal named it.', details => 'kind');
  end if;
  return found;
end
$$;
comment on function public.reseal_google_token(text, text, text, text, text) is
$$Service role (`mentorships gcal rotate-key`): replaces one sealed grant by the same token sealed under key_version, if it is still previous_sealed. Returns whether it was replaced.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.reseal_google_token(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.reseal_google_token(text, text, text, text, text) to service_role;
