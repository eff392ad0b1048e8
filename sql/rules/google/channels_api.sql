-- Google Calendar, push: the public RPCs (service role only) the calendar sync calls for its
-- watch channels (claim_calendar_channels, calendar_channel_opened, calendar_channel_stopped,
-- calendar_channel_failed), the services' disconnect (google_channels_to_stop,
-- google_channel_stopped) and POST /webhooks/google (google_push). Each reads its arguments and
-- calls its definer in channels.sql.

create or replace function public.claim_calendar_channels(worker text default null, max_channels text default null,
                                                          lease_seconds text default null)
returns table (action text, channel_id uuid, mentor_id uuid, calendar_id text, token text, resource_id text,
               ttl_seconds integer, refresh_token_sealed text, key_version integer)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_calendar_channels(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_channels, '20'), 'max_channels', 1, 500),
    private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_calendar_channels(text, text, text) is
$$Service role (the calendar sync, when it has a public webhook address): up to max_channels watch channels to open or stop, leased to worker until now + lease_seconds. action 'open': a watched calendar (busy, or receiving session events) with no live channel, or one expiring within platform_settings.calendar_channel_renew_before_seconds; channel_id and token are chosen here (the token is given out this once) and ttl_seconds is the lifetime to ask for. action 'stop': a channel replaced or no longer wanted, with its resource_id. Each with the mentor's sealed grant.
Arguments: worker (text, at most 200 characters), max_channels (1 to 500, default 20), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_calendar_channels(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_calendar_channels(text, text, text) to service_role;

create or replace function public.calendar_channel_opened(channel_id text default null, worker text default null,
                                                          resource_id text default null, expires_at text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_opened(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(resource_id, 'resource_id', 1024, required => true),
    private.timestamptz_arg(expires_at, 'expires_at')) as c;
end
$$;
comment on function public.calendar_channel_opened(text, text, text, text) is
$$Service role (the calendar sync): Google accepted the watch of a claimed channel. Records its resource_id and expires_at; the calendar's other channels are to be stopped; a first channel on the calendar makes the mentor's sync due at once.
Arguments: channel_id (UUID), worker (the claim's), resource_id (the watch answer's resourceId), expires_at (its expiration as an ISO 8601 instant).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker (lease ran out, or the grant went); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_opened(text, text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_opened(text, text, text, text) to service_role;

create or replace function public.calendar_channel_stopped(channel_id text default null, worker text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_stopped(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true)) as c;
end
$$;
comment on function public.calendar_channel_stopped(text, text) is
$$Service role (the calendar sync): a channel claimed to stop was stopped at Google (channels.stop answered, or 404).
Arguments: channel_id (UUID), worker (the claim's).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker, or not to be stopped; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_stopped(text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_stopped(text, text) to service_role;

create or replace function public.calendar_channel_failed(channel_id text default null, worker text default null,
                                                          error text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_failed(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(error, 'error', 2000, required => true)) as c;
end
$$;
comment on function public.calendar_channel_failed(text, text, text) is
$$Service role (the calendar sync): opening or stopping a claimed channel failed. An unopened one is given up and its calendar tried again after a back-off (calendar_retry_base_seconds doubling to calendar_retry_max_seconds); a stop is retried after the back-off.
Arguments: channel_id (UUID), worker (the claim's), error (what failed, at most 2000 characters).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_failed(text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_failed(text, text, text) to service_role;

create or replace function public.google_channels_to_stop(for_mentor_id text default null)
returns table (channel_id uuid, calendar_id text, resource_id text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_channels_to_stop(private.uuid_arg(for_mentor_id, 'for_mentor_id'));
end
$$;
comment on function public.google_channels_to_stop(text) is
$$Service role (the services, disconnecting or reconnecting a mentor): the opened watch channels of the mentor's removed or replaced grant, to stop with that grant before it is revoked.
Arguments: for_mentor_id (UUID).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_channels_to_stop(text) from public, anon, authenticated;
grant execute on function public.google_channels_to_stop(text) to service_role;

create or replace function public.google_channel_stopped(channel_id text default null, error text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.google_channel_stopped(private.uuid_arg(channel_id, 'channel_id'), private.text_arg(error, 'error', 2000)) as c;
end
$$;
comment on function public.google_channel_stopped(text, text) is
$$Service role (the services): a channel of a removed grant is done with: stopped at Google, or (error set) it could not be and only runs out.
Arguments: channel_id (UUID), error (null when Google stopped it).
Errors: 404 PT404 no such channel left to stop; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_channel_stopped(text, text) from public, anon, authenticated;
grant execute on function public.google_channel_stopped(text, text) to service_role;

create or replace function public.google_push(channel_id text default null, token text default null, resource_id text default null,
                                              resource_state text default null, message_number text default null)
returns table (mentor_id uuid, sync_due boolean)
language plpgsql
volatile
set search_path = ''
as $$
declare
  id uuid;
begin
  -- the channel id names no field value in the message: it may be anything a caller sent
  begin
    id := channel_id::uuid;
  exception when invalid_text_representation then
    perform private.refuse(404, 'no watch channel has the id in X-Goog-Channel-ID', details => 'X-Goog-Channel-ID',
      hint => 'Only channels these services opened are taken.');
  end;
  if message_number is not null and message_number !~ '^[0-9]{1,18}$' then
    perform private.refuse(422, 'X-Goog-Message-Number must be a whole number', details => 'X-Goog-Message-Number',
      hint => 'Send the number Google sent.');
  end if;
  return query select p.mentor_id, p.sync_due from private.google_push(id, token, resource_id, resource_state, message_number::bigint) as p;
end
$$;
comment on function public.google_push(text, text, text, text, text) is
$$Service role (POST /webhooks/google): one notification of a Google Calendar watch channel, as its headers came. Checks the channel id, its token (by sha256), that it is not stopped and the resource id; state sync is acknowledged, exists and not_exists make the mentor's calendar sync due now and wake the sync worker (NOTIFY calendar_sync_due).
Arguments: channel_id (X-Goog-Channel-ID), token (X-Goog-Channel-Token), resource_id (X-Goog-Resource-ID), resource_state (X-Goog-Resource-State), message_number (X-Goog-Message-Number).
Errors: 404 PT404 unknown channel; 403 PT403 wrong token or resource id; 410 PT410 channel stopped; 422 PT422 unknown state or malformed message number.$$;
revoke execute on function public.google_push(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.google_push(text, text, text, text, text) to service_role;
