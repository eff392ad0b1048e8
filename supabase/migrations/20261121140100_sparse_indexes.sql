-- A new session leaves canceled_by and google_event_id empty, and the indexes on them only ever
-- look up values, so they skip the empty rows: each booking writes two index entries fewer. The
-- foreign key's on-delete lookup (canceled_by = $1) still uses its index, and a unique index
-- never compared nulls anyway.
drop index public.sessions_canceled_by_idx;
create index sessions_canceled_by_idx on public.sessions (canceled_by) where canceled_by is not null;
alter table public.sessions drop constraint sessions_google_event_id_key;
create unique index sessions_google_event_id_key on public.sessions (google_event_id)
  where google_event_id is not null;

-- The calendar jobs' mentor index served the foreign key dropped in 20261121140000; the worker
-- reads pending jobs in order (calendar_jobs_pending_idx).
drop index private.calendar_jobs_mentor_id_idx;
