alter table public.session_credit_ledger enable row level security;
revoke all on table public.session_credit_ledger from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.session_credit_ledger to authenticated;
-- Append-only, for the service role too.
grant select, insert on table public.session_credit_ledger to service_role;

create policy "students read their own credit entries" on public.session_credit_ledger
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' credit entries" on public.session_credit_ledger
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all credit entries" on public.session_credit_ledger
  for select to authenticated using ((select private.is_admin()));
