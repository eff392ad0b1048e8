alter table public.mentors enable row level security;
revoke all on table public.mentors from anon, authenticated, service_role;
grant select on table public.mentors to anon, authenticated;
-- A mentor's own: the public profile, when they work (zone, hours) and how they are booked (slot
-- length, grid, buffer, notice, horizon: each read by the next booking, never by a booked
-- session), and whether they take new students. Capacity and is_active are the admins'.
grant update (public_name, headline, bio, avatar_url, portfolio_url, time_zone, working_hours,
  slot_minutes, slot_grid_minutes, buffer_minutes, min_notice_minutes, booking_horizon_days,
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
