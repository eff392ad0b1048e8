alter table public.report_runs enable row level security;
revoke all on table public.report_runs from anon, authenticated, service_role;
-- Admins read every run (the reports' "as of"); the builds write them through
-- private.claim_report_build and private.finish_report_build, never through the API.
grant select on table public.report_runs to authenticated, service_role;

create policy "admins read the report runs" on public.report_runs
  for select to authenticated using ((select private.is_admin()));
