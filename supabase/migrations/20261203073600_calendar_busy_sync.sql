-- Google Calendar, busy times in (issue 12, second part): per-calendar sync state (sync token
-- and the window it covers), the claim and back-off of the per-mentor sync, the fail-closed
-- settings, and the message telling a mentor their grant stopped working.
-- The rules are sql/rules/google/busy.sql.

alter type public.notification_kind add value if not exists 'calendar_disconnected';

alter table public.platform_settings
  add column calendar_stale_after_minutes integer not null default 120
    check (calendar_stale_after_minutes between 5 and 10080),
  add column calendar_sync_interval_seconds integer not null default 300
    check (calendar_sync_interval_seconds between 10 and 86400),
  add column calendar_retry_base_seconds integer not null default 30
    check (calendar_retry_base_seconds between 1 and 86400),
  add column calendar_retry_max_seconds integer not null default 1800
    check (calendar_retry_max_seconds between 1 and 86400);
comment on column public.platform_settings.calendar_stale_after_minutes is
  'Fail closed: a connected mentor whose calendar last synced longer ago than this offers no slots and cannot be booked.';
comment on column public.platform_settings.calendar_sync_interval_seconds is
  'How often a connected mentor''s calendar is synced (polling).';
comment on column public.platform_settings.calendar_retry_base_seconds is
  'The first back-off after a failed calendar sync (doubling per failure in a row, with jitter).';
comment on column public.platform_settings.calendar_retry_max_seconds is
  'The longest back-off after failed calendar syncs.';

-- The mentor-level token never served: each busy calendar has its own (below).
alter table private.calendar_sync_state
  drop column sync_token,
  add column claimed_by text check (length(claimed_by) <= 200),
  add column locked_until timestamptz,
  add column last_attempt_at timestamptz,
  add column grant_revoked boolean not null default false;
comment on column private.calendar_sync_state.claimed_by is 'The sync worker holding the claim.';
comment on column private.calendar_sync_state.locked_until is 'The claim''s lease: no other worker syncs this mentor before.';
comment on column private.calendar_sync_state.last_attempt_at is 'When a worker last claimed it.';
comment on column private.calendar_sync_state.grant_revoked is 'Google answered invalid_grant (google_credentials.revoked_at set): no sync until the mentor reconnects.';
create index calendar_sync_state_due_idx on private.calendar_sync_state (next_sync_at) where not grant_revoked;

create table private.calendar_sync_calendars (
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  calendar_id text not null check (length(calendar_id) between 1 and 1024),
  sync_token text check (length(sync_token) <= 4096),
  window_starts_at timestamptz not null,
  window_ends_at timestamptz not null,
  last_synced_at timestamptz not null,
  primary key (mentor_id, calendar_id),
  check (window_ends_at > window_starts_at)
);
comment on table private.calendar_sync_calendars is
  'Per busy calendar of a mentor: Google''s sync token for the next incremental events.list and the time window the token''s full list covered.';
comment on column private.calendar_sync_calendars.mentor_id is 'The mentor.';
comment on column private.calendar_sync_calendars.calendar_id is 'Google''s calendar id.';
comment on column private.calendar_sync_calendars.sync_token is 'nextSyncToken of the last list (null: the next sync lists in full).';
comment on column private.calendar_sync_calendars.window_starts_at is 'timeMin of the full list the token continues.';
comment on column private.calendar_sync_calendars.window_ends_at is 'timeMax of the full list the token continues.';
comment on column private.calendar_sync_calendars.last_synced_at is 'When this calendar last synced.';
alter table private.calendar_sync_calendars enable row level security;

alter table private.calendar_busy_intervals
  add column calendar_id text check (length(calendar_id) <= 1024);
comment on column private.calendar_busy_intervals.calendar_id is 'The Google calendar it came from.';
create index calendar_busy_intervals_event_idx
  on private.calendar_busy_intervals (mentor_id, calendar_id, source_event_id);

-- Mentors connected before: due at once (and closed until that first sync).
insert into private.calendar_sync_state (mentor_id, grant_revoked)
select g.mentor_id, g.revoked_at is not null from private.google_credentials g
on conflict (mentor_id) do nothing;
