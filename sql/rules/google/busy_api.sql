-- Google Calendar, busy times in: the public RPCs the calendar sync calls with the service-role
-- key (claim_calendar_syncs, calendar_synced, calendar_sync_failed) and the admins' view
-- (calendar_sync_status). Each reads its arguments and calls its definer in busy.sql.

create or replace function public.claim_calendar_syncs(worker text default null, max_mentors text default null,
                                                       lease_seconds text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, calendars jsonb)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_calendar_syncs(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_mentors, '10'), 'max_mentors', 1, 500),
    private.integer_arg(coalesce(lease_seconds, '300'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_calendar_syncs(text, text, text) is
$$Service role (the calendar sync): claims up to max_mentors connected mentors whose sync is due (rows another worker holds are skipped), leased to worker until now + lease_seconds, and returns each with its sealed grant and the calendars to list, its busy ones and the one receiving session events: [{calendar_id, busy (false: listed only for our session events), time_zone, sync_token (null: list in full), time_min, time_max (the window of a full list)}].
Arguments: worker (text, at most 200 characters), max_mentors (1 to 500, default 10), lease_seconds (10 to 3600, default 300).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_calendar_syncs(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_calendar_syncs(text, text, text) to service_role;

create or replace function public.calendar_synced(for_mentor_id text default null, worker text default null,
                                                  calendars jsonb default null)
returns table (mentor_id uuid, busy_intervals integer, last_synced_at timestamptz, next_sync_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  if calendars is null or pg_catalog.jsonb_typeof(calendars) <> 'array' then
    perform private.refuse(422, 'calendars must be an array',
      hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids, intervals}].', details => 'calendars');
  end if;
  return query select * from private.calendar_synced(private.uuid_arg(for_mentor_id, 'for_mentor_id'),
    private.text_arg(worker, 'worker', 200, required => true), calendars);
end
$$;
comment on function public.calendar_synced(text, text, jsonb) is
$$Service role (the calendar sync): a claimed mentor's sync succeeded. In one transaction, per busy calendar: a full list replaces its busy intervals, an incremental one replaces those of the events it returned; the new sync tokens are kept; intervals of calendars no longer busy go; the mentor is fresh again (slots open) when every busy calendar was listed.
Per listed calendar also ours (our session events as Google has them) and cancelled_event_ids: an event of ours deleted or moved in Google, with no job of its session pending, flags the session (calendar_event_changes) and tells the mentor.
Arguments: for_mentor_id (UUID), worker (the claim's), calendars ([{calendar_id, sync_token, full, time_min, time_max, changed_event_ids: [event ids], intervals: [{event_id, starts_at, ends_at}], ours: [{event_id, starts_at, ends_at}], cancelled_event_ids: [event ids]}]).
Errors: 404 PT404 not connected; 409 PT409 the claim is not this worker's (lease ran out); 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.calendar_synced(text, text, jsonb) from public, anon, authenticated;
grant execute on function public.calendar_synced(text, text, jsonb) to service_role;

create or replace function public.calendar_sync_failed(for_mentor_id text default null, worker text default null,
                                                       error text default null, invalid_grant text default null)
returns table (mentor_id uuid, failures integer, next_sync_at timestamptz, grant_revoked boolean)
language plpgsql
volatile
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
begin
  if invalid_grant is not null and lower(btrim(invalid_grant)) not in ('true', 'false') then
    perform private.refuse(422, format('invalid_grant: %s is not true or false', private.quoted(invalid_grant)),
      hint => 'Send invalid_grant as true or false.', details => 'invalid_grant');
  end if;
  s := private.calendar_sync_failed(private.uuid_arg(for_mentor_id, 'for_mentor_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(error, 'error', 10000, required => true),
    coalesce(lower(btrim(invalid_grant)) = 'true', false));
  return query select s.mentor_id, s.failures, s.next_sync_at, s.grant_revoked;
end
$$;
comment on function public.calendar_sync_failed(text, text, text, text) is
$$Service role (the calendar sync): a claimed mentor's sync failed; it is retried after a back-off (doubling per failure in a row, with jitter, capped: platform_settings.calendar_retry_*). invalid_grant true (Google answered invalid_grant): the grant is marked revoked, the sync stops, the mentor's slots stay closed and the mentor is told (calendar_disconnected, with a link to reconnect).
Arguments: for_mentor_id (UUID), worker (the claim's), error (text, at most 10000 characters; the first 2000 are kept), invalid_grant (true or false, default false).
Errors: 404 PT404 not connected; 409 PT409 the claim is not this worker's; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_sync_failed(text, text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_sync_failed(text, text, text, text) to service_role;

create or replace function public.calendar_sync_status()
returns table (mentor_id uuid, public_name text, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.calendar_sync_status();
end
$$;
comment on function public.calendar_sync_status() is
$$Admins: every connected mentor's Google Calendar sync: connected and revoked (invalid_grant) at, last success, next attempt, failures in a row and the last error, and why their slots are closed (null: open). Revoked grants first, then the stalest.
Errors: 403 PT403 not an admin.$$;
revoke execute on function public.calendar_sync_status() from public, anon;
grant execute on function public.calendar_sync_status() to authenticated, service_role;
