-- Google Calendar, push (issue 12): events.watch channels per watched calendar of a mentor, and
-- the settings of their life (how long one is asked to live, how early it is renewed, the longer
-- safety-net sync while a mentor's calendars are watched). The rules are
-- sql/rules/google/channels.sql.

alter table public.platform_settings
  add column calendar_channel_ttl_seconds integer not null default 604800
    check (calendar_channel_ttl_seconds between 3600 and 2592000),
  add column calendar_channel_renew_before_seconds integer not null default 86400
    check (calendar_channel_renew_before_seconds between 60 and 604800),
  add column calendar_push_sync_interval_seconds integer not null default 3600
    check (calendar_push_sync_interval_seconds between 60 and 86400);
comment on column public.platform_settings.calendar_channel_ttl_seconds is
  'How long a Google Calendar push channel is asked to live (events.watch params.ttl; Google may give less).';
comment on column public.platform_settings.calendar_channel_renew_before_seconds is
  'A push channel is replaced by a new one this long before it expires.';
comment on column public.platform_settings.calendar_push_sync_interval_seconds is
  'The safety-net sync of a mentor whose busy calendars all have live push channels (at most half of calendar_stale_after_minutes).';

create table private.calendar_channels (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  calendar_id text not null check (length(calendar_id) between 1 and 1024),
  token_sha256 bytea not null check (length(token_sha256) = 32),
  created_at timestamptz not null,
  claimed_by text check (length(claimed_by) <= 200),
  locked_until timestamptz,
  resource_id text check (length(resource_id) <= 1024),
  opened_at timestamptz,
  expires_at timestamptz,
  stop_after timestamptz,
  stop_reason text check (length(stop_reason) <= 200),
  grant_gone boolean not null default false,
  stopped_at timestamptz,
  failures integer not null default 0 check (failures >= 0),
  retry_at timestamptz,
  last_error text check (length(last_error) <= 2000),
  last_message_number bigint,
  last_change_at timestamptz,
  check (opened_at is null or (resource_id is not null and expires_at is not null))
);
comment on table private.calendar_channels is
  'Google Calendar push channels (events.watch), one per watched calendar of a mentor at a time (two while one replaces the other). Only the sha256 of each channel''s token is kept.';
comment on column private.calendar_channels.id is 'The channel id we chose (X-Goog-Channel-ID).';
comment on column private.calendar_channels.mentor_id is 'The mentor.';
comment on column private.calendar_channels.calendar_id is 'Google''s calendar id it watches.';
comment on column private.calendar_channels.token_sha256 is 'sha256 of the channel token (X-Goog-Channel-Token); the token itself is handed to the worker once, at the claim.';
comment on column private.calendar_channels.created_at is 'When it was claimed to be opened.';
comment on column private.calendar_channels.claimed_by is 'The worker opening or stopping it.';
comment on column private.calendar_channels.locked_until is 'The claim''s lease.';
comment on column private.calendar_channels.resource_id is 'Google''s resourceId of the watched calendar (X-Goog-Resource-ID; channels.stop needs it).';
comment on column private.calendar_channels.opened_at is 'When Google accepted the watch.';
comment on column private.calendar_channels.expires_at is 'When Google will stop it (the watch answer''s expiration).';
comment on column private.calendar_channels.stop_after is 'Set when it is to be stopped: replaced by a newer channel, calendar no longer watched, mentor disconnected.';
comment on column private.calendar_channels.stop_reason is 'Why it is to be stopped.';
comment on column private.calendar_channels.grant_gone is 'The grant it was opened with is gone (disconnect or reconnect): stopped by the services with the queued grant before revoking it, not by the worker.';
comment on column private.calendar_channels.stopped_at is 'When it stopped: stopped at Google, expired, or never opened.';
comment on column private.calendar_channels.failures is 'Failed attempts in a row to open or stop it.';
comment on column private.calendar_channels.retry_at is 'A failed attempt is not repeated before.';
comment on column private.calendar_channels.last_error is 'The last failure.';
comment on column private.calendar_channels.last_message_number is 'X-Goog-Message-Number of the last notification taken.';
comment on column private.calendar_channels.last_change_at is 'When the last change notification (exists, not_exists) was taken.';
create index calendar_channels_calendar_idx on private.calendar_channels (mentor_id, calendar_id) where stopped_at is null;
create index calendar_channels_mentor_idx on private.calendar_channels (mentor_id);
alter table private.calendar_channels enable row level security;
