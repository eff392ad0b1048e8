alter table public.notifications enable row level security;
revoke all on table public.notifications from anon, authenticated, service_role;
-- Queued by rules in the same transaction as their cause; delivered by the dispatcher.
grant select on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

create policy "people read their own notifications" on public.notifications
  for select to authenticated using (recipient_id = (select auth.uid()));
create policy "admins read all notifications" on public.notifications
  for select to authenticated using ((select private.is_admin()));
