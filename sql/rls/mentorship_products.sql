alter table public.mentorship_products enable row level security;
revoke all on table public.mentorship_products from anon, authenticated, service_role;
grant select on table public.mentorship_products to anon, authenticated;
grant insert (mentor_id, title, description, sessions_count, validity_days, price_cents, currency,
  is_active) on table public.mentorship_products to authenticated;
grant update (title, description, sessions_count, validity_days, price_cents, is_active)
  on table public.mentorship_products to authenticated;
grant select, insert, update, delete on table public.mentorship_products to service_role;

create policy "visitors read active products of active mentors" on public.mentorship_products
  for select to anon using (is_active and mentor_id in (select m.id from public.mentors m));
create policy "signed-in users read active products of active mentors" on public.mentorship_products
  for select to authenticated
  using (is_active and mentor_id in (select m.id from public.mentors m where m.is_active));
create policy "mentors read their own products" on public.mentorship_products
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all products" on public.mentorship_products
  for select to authenticated using ((select private.is_admin()));
create policy "mentors add products of their own" on public.mentorship_products
  for insert to authenticated with check (mentor_id = (select auth.uid()));
create policy "admins add products" on public.mentorship_products
  for insert to authenticated with check ((select private.is_admin()));
create policy "mentors update their own products" on public.mentorship_products
  for update to authenticated
  using (mentor_id = (select auth.uid())) with check (mentor_id = (select auth.uid()));
create policy "admins update all products" on public.mentorship_products
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));
