-- Google Calendar, session events out and changes made in Google (issue 12, third part): the
-- claim of calendar_jobs (a lease, a back-off, an outcome), the events we wrote (what we last
-- wrote of each, so a change made in Google can be told from ours), the sessions whose event
-- the mentor deleted or moved in Google (shown on the dashboards until the mentor chooses), and
-- the message telling the mentor. The rules are sql/rules/google/events.sql and changes.sql.

alter type public.notification_kind add value if not exists 'calendar_event_changed';

alter table public.platform_settings
  add column calendar_job_max_attempts integer not null default 8
    check (calendar_job_max_attempts between 1 and 100);
comment on column public.platform_settings.calendar_job_max_attempts is
  'A session event that failed this many times in a row is given up (calendar_jobs.outcome gave_up).';

alter table private.calendar_jobs
  add column claimed_by text check (length(claimed_by) <= 200),
  add column locked_until timestamptz,
  add column next_attempt_at timestamptz,
  add column outcome text check (outcome in ('done', 'skipped', 'gave_up'));
comment on column private.calendar_jobs.claimed_by is 'The calendar worker holding the claim (with the other pending jobs of the session).';
comment on column private.calendar_jobs.locked_until is 'The claim''s lease: no other worker applies the session''s jobs before.';
comment on column private.calendar_jobs.next_attempt_at is 'After a failure: not claimed again before (null: due when requested).';
comment on column private.calendar_jobs.outcome is 'done (applied at Google), skipped (the mentor has no connected calendar receiving events: last_error says so) or gave_up (failed calendar_job_max_attempts times).';
create index calendar_jobs_pending_session_idx on private.calendar_jobs (session_id) where processed_at is null;

create table private.calendar_events (
  session_id uuid primary key,
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  calendar_id text not null check (length(calendar_id) between 1 and 1024),
  -- (Postgres regular expressions repeat at most 255 times: the length is checked on its own)
  event_id text not null constraint calendar_events_event_id_check
    check (event_id ~ '^[a-v0-9]+$' and length(event_id) between 5 and 1024),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  etag text check (length(etag) <= 200),
  written_at timestamptz not null,
  check (ends_at > starts_at)
);
comment on table private.calendar_events is
  'The session events we wrote into mentors'' Google calendars: where, and the times and etag we last wrote (not a foreign key to sessions: a booked session is never deleted). A change seen in Google is compared with this, not with the session''s current times.';
comment on column private.calendar_events.session_id is 'The session.';
comment on column private.calendar_events.mentor_id is 'Whose calendar.';
comment on column private.calendar_events.calendar_id is 'The Google calendar holding the event.';
comment on column private.calendar_events.event_id is 'The event id (private.google_event_id of the session).';
comment on column private.calendar_events.starts_at is 'The start we last wrote.';
comment on column private.calendar_events.ends_at is 'The end we last wrote.';
comment on column private.calendar_events.etag is 'Google''s etag of the event after our last write.';
comment on column private.calendar_events.written_at is 'When our last write was recorded.';
create index calendar_events_mentor_id_idx on private.calendar_events (mentor_id);
create index calendar_events_event_idx on private.calendar_events (mentor_id, calendar_id, event_id);
alter table private.calendar_events enable row level security;

create table public.calendar_event_changes (
  id bigint generated always as identity primary key,
  session_id uuid not null,
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  change text not null check (change in ('deleted', 'moved')),
  google_starts_at timestamptz,
  google_ends_at timestamptz,
  noticed_at timestamptz not null,
  resolved_at timestamptz,
  resolution text check (resolution in ('cancel', 'restore')),
  check (change = 'deleted' or (google_starts_at is not null and google_ends_at is not null)),
  check ((resolved_at is null) = (resolution is null))
);
comment on table public.calendar_event_changes is
  'A session whose Google Calendar event the mentor deleted or moved in Google (seen by the calendar sync). Nothing is canceled automatically: the mentor chooses with public.resolve_calendar_change (cancel the session, or restore the event).';
comment on column public.calendar_event_changes.id is 'Row id.';
comment on column public.calendar_event_changes.session_id is 'The session (not a foreign key: a booked session is never deleted).';
comment on column public.calendar_event_changes.mentor_id is 'The session''s mentor.';
comment on column public.calendar_event_changes.change is 'deleted (the event was deleted in Google) or moved (its times differ from those we wrote).';
comment on column public.calendar_event_changes.google_starts_at is 'Moved: the event''s start in Google.';
comment on column public.calendar_event_changes.google_ends_at is 'Moved: the event''s end in Google.';
comment on column public.calendar_event_changes.noticed_at is 'When the sync saw it.';
comment on column public.calendar_event_changes.resolved_at is 'When the mentor chose (null: open).';
comment on column public.calendar_event_changes.resolution is 'cancel (the session was canceled, credit restored) or restore (the event put back at the session''s time).';
create unique index calendar_event_changes_open_idx on public.calendar_event_changes (session_id) where resolved_at is null;
create index calendar_event_changes_session_id_idx on public.calendar_event_changes (session_id);
create index calendar_event_changes_mentor_id_idx on public.calendar_event_changes (mentor_id);
alter table public.calendar_event_changes enable row level security;
