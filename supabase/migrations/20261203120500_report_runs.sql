-- Report builds (dbt, `mentorships reports build` and the schedule, python -m sync.reports): one
-- row per build, claimed and finished by the rules in sql/rules/reports.sql. Admins read them
-- (the reports' "as of" is the finished_at of the last succeeded run); nobody writes them
-- through the API.
create table public.report_runs (
  id bigint generated always as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz,
  outcome text not null default 'running' check (outcome in ('running', 'succeeded', 'failed')),
  trigger text not null check (trigger in ('schedule', 'command', 'demo')),
  selector text check (length(selector) <= 2000),
  error text check (length(error) <= 2000),
  rows_per_mart jsonb,
  dbt_version text check (length(dbt_version) <= 100),
  claimed_by text not null check (length(claimed_by) between 1 and 200),
  lease_until timestamptz,
  check ((outcome = 'running') = (finished_at is null)),
  check (outcome <> 'running' or lease_until is not null)
);
comment on table public.report_runs is 'Every build of the reports (dbt): when, how it ended, rows per mart. The reports are as of the finished_at of the last succeeded run.';
comment on column public.report_runs.id is 'The run''s number.';
comment on column public.report_runs.started_at is 'When the build was claimed (the rules'' clock).';
comment on column public.report_runs.finished_at is 'When it ended; null while running.';
comment on column public.report_runs.outcome is 'running, succeeded or failed (a failed run whose worker died has the error "lease ran out").';
comment on column public.report_runs.trigger is 'What started it: schedule (the worker), command (mentorships reports build) or demo (make demo).';
comment on column public.report_runs.selector is 'The dbt --select given, when one was (null: every model).';
comment on column public.report_runs.error is 'Why it failed, shortened (dbt''s error lines).';
comment on column public.report_runs.rows_per_mart is 'Rows of every table in analytics when the run ended, {"mart": rows}.';
comment on column public.report_runs.dbt_version is 'The dbt-core version that built it.';
comment on column public.report_runs.claimed_by is 'The worker or command that claimed the build.';
comment on column public.report_runs.lease_until is 'While running: after this instant the run counts as dead and is marked failed.';

-- One live run at a time, whatever the callers do.
create unique index report_runs_one_running on public.report_runs ((true)) where outcome = 'running';
create index report_runs_started_at on public.report_runs (started_at desc);

alter table public.platform_settings
  add column report_build_interval_minutes integer not null default 60
    check (report_build_interval_minutes between 5 and 10080);
comment on column public.platform_settings.report_build_interval_minutes is
  'Minutes between scheduled builds of the reports (python -m sync.reports), counted from the last finished run''s start.';
