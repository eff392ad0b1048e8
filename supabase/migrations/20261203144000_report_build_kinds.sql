-- Full and incremental report builds. A full build (`dbt build --full-refresh`: every model,
-- the staging views again, every data test, the unit tests) runs when the dbt project changed
-- since the last full one, when that one is older than report_full_build_hours, or when asked;
-- every other build is incremental (the incremental models from their watermarks, the tables
-- rebuilt, the tests of the intermediate and mart models; the staging views and their tests,
-- which re-check the app tables' own keys over every row, and the unit tests, which depend on
-- the project only, are left to the full build). The rules in sql/rules/reports.sql decide.
alter table public.report_runs
  add column kind text not null default 'full' check (kind in ('full', 'incremental', 'selected')),
  add column project_checksum text check (length(project_checksum) <= 100);
comment on column public.report_runs.kind is
  'full (every model rebuilt, every test), incremental (the marts from their watermarks, the marts'' tests) or selected (the models of selector only).';
comment on column public.report_runs.project_checksum is
  'The dbt project''s checksum (its files and the dbt version) the build ran: a changed project makes the next build full.';
update public.report_runs set kind = 'selected' where selector is not null;

alter table public.platform_settings
  add column report_full_build_hours integer not null default 24
    check (report_full_build_hours between 1 and 720);
comment on column public.platform_settings.report_full_build_hours is
  'Hours after which the next report build is a full one (every model rebuilt and every test run) rather than incremental.';
