alter table public.platform_settings enable row level security;
revoke all on table public.platform_settings from anon, authenticated, service_role;
grant select on table public.platform_settings to anon, authenticated, service_role;
grant update (seat_hold_minutes, grace_period_hours, grace_warning_hours, cancel_notice_hours,
  video_join_early_minutes, video_join_late_minutes, default_sessions_per_pack,
  default_pack_validity_days, default_currency, message_max_attempts, message_retry_base_seconds,
  message_retry_max_seconds, report_build_interval_minutes, report_full_build_hours) on table public.platform_settings to authenticated;
grant update on table public.platform_settings to service_role;

create policy "visitors read the platform settings" on public.platform_settings
  for select to anon using (true);
create policy "signed-in users read the platform settings" on public.platform_settings
  for select to authenticated using (true);
create policy "admins update the platform settings" on public.platform_settings
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));
