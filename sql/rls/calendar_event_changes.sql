alter table public.calendar_event_changes enable row level security;
revoke all on table public.calendar_event_changes from anon, authenticated, service_role;
-- A mentor reads the flags of their own sessions (and resolves them only through
-- resolve_calendar_change); admins read all. The calendar sync writes them (calendar_synced).
grant select on table public.calendar_event_changes to authenticated, service_role;

create policy "mentors read their sessions' calendar changes" on public.calendar_event_changes
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all calendar changes" on public.calendar_event_changes
  for select to authenticated using ((select private.is_admin()));
