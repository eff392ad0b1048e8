-- Google Calendar, connecting (issue 12, first part): the mentor's calendars and which of them
-- count as busy and receive session events; the one-time states of the consent flow (a state
-- is good for one callback); grants waiting to be revoked at Google after a disconnect.
-- The rules are sql/rules/google/connect.sql; the policies sql/rls/mentor_calendars.sql.

create table public.mentor_calendars (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  calendar_id text not null check (length(calendar_id) between 1 and 1024),
  summary text not null default '' check (length(summary) <= 1024),
  is_primary boolean not null default false,
  access_role text not null check (access_role in ('freeBusyReader', 'reader', 'writer', 'owner')),
  time_zone text check (length(time_zone) <= 64),
  counts_as_busy boolean not null default false,
  receives_events boolean not null default false,
  listed_at timestamptz not null default private.stamp_now(),
  constraint mentor_calendars_mentor_calendar_key unique (mentor_id, calendar_id),
  -- Session events are written, so only into a calendar the mentor may write to.
  check (not receives_events or access_role in ('writer', 'owner'))
);
comment on table public.mentor_calendars is
  'A connected mentor''s Google calendars (Calendar API calendarList), as last listed, and the mentor''s choice: which count as busy, which one receives session events. Changed through public.choose_google_calendars.';
comment on column public.mentor_calendars.id is 'Row id.';
comment on column public.mentor_calendars.mentor_id is 'The mentor.';
comment on column public.mentor_calendars.calendar_id is 'Google''s calendar id (the primary one is the account''s email address).';
comment on column public.mentor_calendars.summary is 'The calendar''s title in Google.';
comment on column public.mentor_calendars.is_primary is 'Whether it is the account''s primary calendar.';
comment on column public.mentor_calendars.access_role is 'The mentor''s access in Google: freeBusyReader, reader, writer or owner.';
comment on column public.mentor_calendars.time_zone is 'The calendar''s time zone in Google (IANA name).';
comment on column public.mentor_calendars.counts_as_busy is 'Its events make the mentor busy (no slots offered then).';
comment on column public.mentor_calendars.receives_events is 'Session events are written into it (at most one per mentor).';
comment on column public.mentor_calendars.listed_at is 'When Google last listed it.';
create unique index mentor_calendars_one_events_calendar_idx
  on public.mentor_calendars (mentor_id) where receives_events;

create table private.google_oauth_states (
  nonce text primary key check (length(nonce) between 16 and 64),
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  expires_at timestamptz not null
);
comment on table private.google_oauth_states is
  'The consent flows a mentor started and has not finished (GET /oauth/google/start): the signed state carries the nonce, and the callback takes the row (private.claim_google_state), so a state is good once.';
comment on column private.google_oauth_states.nonce is 'The state''s nonce (random).';
comment on column private.google_oauth_states.mentor_id is 'The mentor who started.';
comment on column private.google_oauth_states.expires_at is 'After this the state is refused.';
create index google_oauth_states_mentor_id_idx on private.google_oauth_states (mentor_id);

create table private.google_revocations (
  id bigint generated always as identity primary key,
  mentor_id uuid not null,
  refresh_token_ciphertext bytea not null,
  key_version integer not null check (key_version > 0),
  queued_at timestamptz not null default private.stamp_now()
);
comment on table private.google_revocations is
  'Grants to revoke at Google: a disconnected mentor''s sealed refresh token, kept until Google''s revoke endpoint took it (no foreign key: a deleted mentor''s grant is still revoked).';
comment on column private.google_revocations.id is 'Revocation number.';
comment on column private.google_revocations.mentor_id is 'Whose grant it was.';
comment on column private.google_revocations.refresh_token_ciphertext is 'The sealed refresh token (as in private.google_credentials).';
comment on column private.google_revocations.key_version is 'Which key sealed it.';
comment on column private.google_revocations.queued_at is 'When the mentor disconnected.';
create index google_revocations_mentor_id_idx on private.google_revocations (mentor_id);

alter table private.google_oauth_states enable row level security;
alter table private.google_revocations enable row level security;
