-- The people-and-seats reports (dbt/models/marts/people) rebuild only what changed since their
-- last build: they find the changed sessions, packs and seats through their updated_at, and
-- "completed this month" reads one month of completions. Without these indexes each incremental
-- build would scan the whole table. (sessions.updated_at's index comes with 20261203115027.)
create index if not exists sessions_completed_at_idx on public.sessions (completed_at) where completed_at is not null;
create index if not exists session_packs_updated_at_idx on public.session_packs (updated_at);
create index if not exists seat_reservations_updated_at_idx on public.seat_reservations (updated_at);
