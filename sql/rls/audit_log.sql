alter table public.audit_log enable row level security;
revoke all on table public.audit_log from anon, authenticated, service_role;
grant select on table public.audit_log to authenticated;
-- Append-only, for the service role too.
grant select, insert on table public.audit_log to service_role;

create policy "admins read the audit log" on public.audit_log
  for select to authenticated using ((select private.is_admin()));
