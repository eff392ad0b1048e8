alter table public.mentors enable row level security;
revoke all on table public.mentors from anon, authenticated, service_role;
grant select on table public.mentors to anon, authenticated;
grant update (public_name, headline, bio, avatar_url, portfolio_url, time_zone, working_hours,
  accepting_students) on table public.mentors to authenticated;
grant select, insert, update, delete on table public.mentors to service_role;

create policy "visitors read active mentors" on public.mentors
  for select to anon using (is_active);
create policy "signed-in users read active mentors" on public.mentors
  for select to authenticated using (is_active);
create policy "mentors read their own mentor row" on public.mentors
  for select to authenticated using (id = (select auth.uid()));
create policy "admins read all mentors" on public.mentors
  for select to authenticated using ((select private.is_admin()));
create policy "mentors update their own mentor row" on public.mentors
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
