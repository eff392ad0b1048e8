-- Google Calendar, connecting: the RPCs clients and the services call (POST /rest/v1/rpc/<name>).
-- Each reads its arguments (a 422 naming the field) and calls the security-definer function in
-- private that decides (sql/rules/google/connect.sql). Their comments are the API's documentation.

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
