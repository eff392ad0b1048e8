alter table public.session_packs enable row level security;
revoke all on table public.session_packs from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.session_packs to authenticated;
grant select, insert, update, delete on table public.session_packs to service_role;

create policy "students read their own packs" on public.session_packs
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' packs" on public.session_packs
  for select to authenticated using (mentor_id = (select auth.uid()));
-- every mentor's rows, written as an index condition (private.admin_mentor_ids says why)
create policy "admins read all packs" on public.session_packs
  for select to authenticated
  using (mentor_id = any ((select private.admin_mentor_ids())::uuid[]));
