alter table public.sessions enable row level security;
revoke all on table public.sessions from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.sessions to authenticated;
grant select, insert, update, delete on table public.sessions to service_role;

create policy "students read their own sessions" on public.sessions
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' sessions" on public.sessions
  for select to authenticated using (mentor_id = (select auth.uid()));
-- every mentor's rows, written as an index condition (private.admin_mentor_ids says why)
create policy "admins read all sessions" on public.sessions
  for select to authenticated
  using (mentor_id = any ((select private.admin_mentor_ids())::uuid[]));
