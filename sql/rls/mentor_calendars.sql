alter table public.mentor_calendars enable row level security;
revoke all on table public.mentor_calendars from anon, authenticated, service_role;
-- A mentor reads their own calendars and changes them only through choose_google_calendars (it
-- checks the ids are theirs and the events calendar writable); admins read everyone's. The
-- services list them as the service role (google_connected, store_google_calendars).
grant select on table public.mentor_calendars to authenticated;
grant select, insert, update, delete on table public.mentor_calendars to service_role;

create policy "mentors read their own calendars" on public.mentor_calendars
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all calendars" on public.mentor_calendars
  for select to authenticated using ((select private.is_admin()));
