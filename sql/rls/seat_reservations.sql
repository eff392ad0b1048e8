alter table public.seat_reservations enable row level security;
revoke all on table public.seat_reservations from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.seat_reservations to authenticated;
grant select, insert, update, delete on table public.seat_reservations to service_role;

create policy "students read their own seats" on public.seat_reservations
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' seats" on public.seat_reservations
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all seats" on public.seat_reservations
  for select to authenticated using ((select private.is_admin()));
