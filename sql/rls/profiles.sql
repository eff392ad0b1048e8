alter table public.profiles enable row level security;
revoke all on table public.profiles from anon, authenticated, service_role;
grant select on table public.profiles to authenticated;
-- discord_user_id is not in the grant: only Discord's OAuth2 flow sets it (public.link_discord, service
-- role), and its owner clears it (public.unlink_discord); see sql/rules/discord_links.sql.
grant update (display_name, time_zone) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

create policy "people read their own profile" on public.profiles
  for select to authenticated using (id = (select auth.uid()));
create policy "mentors read their students' profiles" on public.profiles
  for select to authenticated using (id in (select private.my_student_ids()));
create policy "admins read all profiles" on public.profiles
  for select to authenticated using ((select private.is_admin()));
create policy "people update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
