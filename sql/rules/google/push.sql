-- Google Calendar, push: what the services call (channels.sql holds the worker's part). Before
-- a removed or replaced grant is revoked, the channels opened with it are listed and reported
-- stopped (google_channels_to_stop, google_channel_stopped); each of Google's notifications
-- (POST /webhooks/google) is checked and makes the mentor's sync due (google_push). The public
-- RPCs are channels_api.sql.


-- The opened channels of the mentor's removed or replaced grant, for the services to stop with
-- that grant (queued in google_revocations) before revoking it.
create or replace function private.google_channels_to_stop(for_mentor_id uuid)
returns table (channel_id uuid, calendar_id text, resource_id text)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id, c.calendar_id, c.resource_id from private.calendar_channels c
   where c.mentor_id = for_mentor_id and c.grant_gone and c.stopped_at is null and c.opened_at is not null
   order by c.id
$$;
comment on function private.google_channels_to_stop(uuid) is 'See public.google_channels_to_stop.';
revoke execute on function private.google_channels_to_stop(uuid) from public, anon, authenticated;
grant execute on function private.google_channels_to_stop(uuid) to service_role;

create or replace function private.google_channel_stopped(for_channel_id uuid, error text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  update private.calendar_channels x set stopped_at = private.clock_now(), last_error = left(google_channel_stopped.error, 2000)
   where x.id = for_channel_id and x.grant_gone and x.stopped_at is null
  returning * into c;
  if not found then
    perform private.refuse(404, format('no watch channel %s of a removed grant is left to stop', for_channel_id),
      hint => 'List them with google_channels_to_stop.');
  end if;
  return c;
end
$$;
comment on function private.google_channel_stopped(uuid, text) is 'See public.google_channel_stopped.';
revoke execute on function private.google_channel_stopped(uuid, text) from public, anon, authenticated;
grant execute on function private.google_channel_stopped(uuid, text) to service_role;

-- One notification of Google's (POST /webhooks/google): the channel must exist, its token match
-- (compared as sha256, so not in time that depends on the token), the channel not be stopped,
-- and the resource id (once known) be the channel's. `sync` (sent once when the channel opens) is
-- acknowledged; `exists` and `not_exists` make the mentor's sync due now and wake the worker.
create or replace function private.google_push(for_channel_id uuid, token text, resource_id text, resource_state text,
                                               message_number bigint)
returns table (channel_id uuid, mentor_id uuid, sync_due boolean)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  c private.calendar_channels;
  change boolean;
begin
  select * into c from private.calendar_channels x where x.id = for_channel_id;
  if not found then
    perform private.refuse(404, 'no watch channel has the id in X-Goog-Channel-ID', details => 'X-Goog-Channel-ID',
      hint => 'Only channels these services opened are taken.');
  end if;
  if token is null or sha256(convert_to(token, 'UTF8')) <> c.token_sha256 then
    perform private.refuse(403, 'X-Goog-Channel-Token does not match the channel''s token', details => 'X-Goog-Channel-Token',
      hint => 'Google sends the token given at events.watch with every notification.');
  end if;
  if c.stopped_at is not null or c.grant_gone then
    perform private.refuse(410, 'the watch channel was stopped', details => 'X-Goog-Channel-ID',
      hint => 'Its calendar is watched by a newer channel, or no longer.');
  end if;
  if c.resource_id is not null and google_push.resource_id is distinct from c.resource_id then
    perform private.refuse(403, 'X-Goog-Resource-ID is not the resource the channel watches', details => 'X-Goog-Resource-ID',
      hint => 'Google sends the resourceId of the watch''s answer.');
  end if;
  if resource_state is null or resource_state not in ('sync', 'exists', 'not_exists') then
    perform private.refuse(422, 'X-Goog-Resource-State must be sync, exists or not_exists', details => 'X-Goog-Resource-State',
      hint => 'Send the state Google sent.');
  end if;
  change := resource_state <> 'sync';
  update private.calendar_channels x
     set last_message_number = greatest(x.last_message_number, message_number),
         last_change_at = case when change then now_ else x.last_change_at end
   where x.id = for_channel_id;
  if change then
    update private.calendar_sync_state s set next_sync_at = now_
     where s.mentor_id = c.mentor_id and s.next_sync_at > now_;
    perform pg_notify('calendar_sync_due', c.mentor_id::text);
  end if;
  return query select c.id, c.mentor_id, change;
end
$$;
comment on function private.google_push(uuid, text, text, text, bigint) is 'See public.google_push.';
revoke execute on function private.google_push(uuid, text, text, text, bigint) from public, anon, authenticated;
grant execute on function private.google_push(uuid, text, text, text, bigint) to service_role;
