-- Booking: the calendar job queue the sync worker drains, and the RPCs' result types.

create table private.calendar_jobs (
  id bigint generated always as identity primary key,
  session_id uuid not null references public.sessions (id) on delete cascade,
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  action text not null check (action in ('upsert', 'delete')),
  requested_at timestamptz not null default now(),
  processed_at timestamptz,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text
);
comment on table private.calendar_jobs is 'Calendar changes to make in the mentor''s Google Calendar, queued in the same transaction as the booking change; the sync worker claims them with skip locked.';
comment on column private.calendar_jobs.id is 'Job number (order of requests).';
comment on column private.calendar_jobs.session_id is 'The session whose event to create, move or delete.';
comment on column private.calendar_jobs.mentor_id is 'Whose calendar.';
comment on column private.calendar_jobs.action is 'upsert (create or move the event) or delete.';
comment on column private.calendar_jobs.requested_at is 'When the change was made.';
comment on column private.calendar_jobs.processed_at is 'When the worker finished it.';
comment on column private.calendar_jobs.attempts is 'Tries so far.';
comment on column private.calendar_jobs.last_error is 'Last failure.';
create index calendar_jobs_session_id_idx on private.calendar_jobs (session_id);
create index calendar_jobs_mentor_id_idx on private.calendar_jobs (mentor_id);
create index calendar_jobs_pending_idx on private.calendar_jobs (id) where processed_at is null;
alter table private.calendar_jobs enable row level security;

create type public.session_change as (
  session public.sessions,
  credit_restored boolean
);
comment on type public.session_change is 'A changed session and whether its credit went back to the pack.';

create type public.video_access as (
  session_id uuid,
  channel text,
  role text,
  starts_at timestamptz,
  ends_at timestamptz,
  expires_at timestamptz
);
comment on type public.video_access is 'Who may join which call until when (the Agora token is minted from this).';
