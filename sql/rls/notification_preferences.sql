alter table public.notification_preferences enable row level security;
revoke all on table public.notification_preferences from anon, authenticated, service_role;
-- A person switches their own messages; which kinds may be switched is checked by
-- private.tg_notification_preferences__check_input (422). user_id, kind and channel are in the
-- update grant so that a PostgREST upsert (on_conflict=user_id,kind,channel) may set them; the
-- policies keep every row the caller's own. Admins read everyone's and change no one's (not
-- audited: only owners write, and the signed unsubscribe link writes as the service role).
grant select, delete on table public.notification_preferences to authenticated;
grant insert (user_id, kind, channel, enabled), update (user_id, kind, channel, enabled)
  on table public.notification_preferences to authenticated;
grant select, insert, update, delete on table public.notification_preferences to service_role;

create policy "people read their own notification preferences" on public.notification_preferences
  for select to authenticated using (user_id = (select auth.uid()));
create policy "admins read all notification preferences" on public.notification_preferences
  for select to authenticated using ((select private.is_admin()));
create policy "people add their own notification preferences" on public.notification_preferences
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "people change their own notification preferences" on public.notification_preferences
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "people remove their own notification preferences" on public.notification_preferences
  for delete to authenticated using (user_id = (select auth.uid()));
