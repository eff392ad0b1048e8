alter table public.promotion_codes enable row level security;
revoke all on table public.promotion_codes from anon, authenticated, service_role;
-- Students never list codes: they type one and create_order checks it.
grant select on table public.promotion_codes to authenticated;
grant insert (code, percent_off, amount_off_cents, currency, valid_from, valid_until,
  max_redemptions, product_id, mentor_id, is_active) on table public.promotion_codes to authenticated;
grant update (valid_until, max_redemptions, is_active) on table public.promotion_codes to authenticated;
grant select, insert, update, delete on table public.promotion_codes to service_role;

create policy "admins read all promotion codes" on public.promotion_codes
  for select to authenticated using ((select private.is_admin()));
create policy "mentors read codes scoped to them" on public.promotion_codes
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins create promotion codes" on public.promotion_codes
  for insert to authenticated with check ((select private.is_admin()));
create policy "admins update promotion codes" on public.promotion_codes
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));
