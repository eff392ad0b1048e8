alter table public.payments enable row level security;
revoke all on table public.payments from anon, authenticated, service_role;
-- Money: the buyer and admins only, never the mentor. Written by RPCs and webhooks.
grant select on table public.payments to authenticated;
grant select, insert, update, delete on table public.payments to service_role;

create policy "students read their own payments" on public.payments
  for select to authenticated using (student_id = (select auth.uid()));
create policy "admins read all payments" on public.payments
  for select to authenticated using ((select private.is_admin()));
