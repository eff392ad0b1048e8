alter table public.orders enable row level security;
revoke all on table public.orders from anon, authenticated, service_role;
-- Money: the buyer and admins only, never the mentor. Written by RPCs and webhooks.
grant select on table public.orders to authenticated;
grant select, insert, update, delete on table public.orders to service_role;

create policy "students read their own orders" on public.orders
  for select to authenticated using (student_id = (select auth.uid()));
create policy "admins read all orders" on public.orders
  for select to authenticated using ((select private.is_admin()));
