-- Building the reports (dbt, dbt/): who may start a build and when, and what a finished build
-- records. The builders are `mentorships reports build` (trigger 'command'), `make demo`
-- ('demo') and the schedule, python -m sync.reports ('schedule'); each claims a run here, runs
-- `dbt build`, and finishes the run here. They connect directly (dbt needs a Postgres
-- connection anyway) as the database owner or the service role; the API roles may not call these.
--
--   claim_report_build --> running --finish_report_build--> succeeded | failed
--                             '------lease ran out (next claim)--> failed
--
-- One run is live at a time: claims take an advisory lock, and a unique index allows one
-- 'running' row. A scheduled build is due when the last finished run started at least
-- platform_settings.report_build_interval_minutes ago (or there is none); a command or demo
-- build is due whenever no run is live.
--
-- What a run builds (its kind), decided at the claim:
--   selected     a selector was given: those models (and their tests) only;
--   full         asked for; or no succeeded full build of this project_checksum started within
--                platform_settings.report_full_build_hours: every model rebuilt, every test;
--   incremental  otherwise: the incremental models from their watermarks, the other marts
--                rebuilt, their tests; not the staging views (unchanged since the full build of
--                the same project) nor their tests, nor the unit tests.

-- The signature before the run's kind (an overload would make every call ambiguous).
drop function if exists private.claim_report_build(text, text, text, integer);

create or replace function private.claim_report_build(worker text, trigger text, selector text default null,
                                                      lease_seconds integer default 3600,
                                                      project_checksum text default null,
                                                      full_refresh boolean default false)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  every interval := make_interval(mins => (select s.report_build_interval_minutes from public.platform_settings s where s.id));
  full_every interval := make_interval(hours => (select s.report_full_build_hours from public.platform_settings s where s.id));
  last_start timestamptz;
  run_kind text;
  run_id bigint;
begin
  if coalesce(length(btrim(claim_report_build.worker)), 0) not between 1 and 200 then
    perform private.refuse(422, 'worker must name the builder in 1 to 200 characters',
      hint => 'Send worker as the builder''s name, such as host:pid.', details => 'worker');
  end if;
  if claim_report_build.trigger is null or claim_report_build.trigger not in ('schedule', 'command', 'demo') then
    perform private.refuse(422, format('trigger must be schedule, command or demo (got %s)', private.quoted(claim_report_build.trigger)),
      hint => 'Send trigger as schedule, command or demo.', details => 'trigger');
  end if;
  perform private.check_whole_number(claim_report_build.lease_seconds, 'lease_seconds', 10, 86400);
  if length(claim_report_build.project_checksum) > 100 then
    perform private.refuse(422, 'project_checksum must be at most 100 characters',
      hint => 'Send the dbt project''s checksum as a hex digest.', details => 'project_checksum');
  end if;
  if length(claim_report_build.selector) > 2000 then
    perform private.refuse(422, 'selector must be at most 2000 characters',
      hint => 'Send a shorter dbt --select.', details => 'selector');
  end if;

  -- Claims one at a time (the lock is released when the claim's transaction ends).
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('mentorships.claim_report_build'));

  -- A run whose builder died: failed once its lease has run out.
  update public.report_runs r
     set outcome = 'failed', finished_at = now_,
         error = format('lease ran out: %s stopped before finishing the build', r.claimed_by)
   where r.outcome = 'running' and r.lease_until <= now_;

  if exists (select from public.report_runs r where r.outcome = 'running') then
    return null;
  end if;
  if claim_report_build.trigger = 'schedule' then
    select max(r.started_at) into last_start from public.report_runs r where r.outcome in ('succeeded', 'failed');
    if last_start is not null and last_start > now_ - every then
      return null;
    end if;
  end if;

  run_kind := case
    when nullif(btrim(claim_report_build.selector), '') is not null then 'selected'
    when coalesce(claim_report_build.full_refresh, false) then 'full'
    when claim_report_build.project_checksum is null then 'full'
    when not exists (
      select from public.report_runs r
       where r.kind = 'full' and r.outcome = 'succeeded'
         and r.project_checksum = claim_report_build.project_checksum
         and r.started_at > now_ - full_every) then 'full'
    else 'incremental' end;

  insert into public.report_runs (started_at, trigger, selector, claimed_by, lease_until, kind, project_checksum)
  values (now_, claim_report_build.trigger, nullif(btrim(claim_report_build.selector), ''),
          btrim(claim_report_build.worker), now_ + make_interval(secs => claim_report_build.lease_seconds),
          run_kind, claim_report_build.project_checksum)
  returning id into run_id;
  return run_id;
end
$$;
comment on function private.claim_report_build(text, text, text, integer, text, boolean) is
  'Starts a report build: the new run''s id, or null when a run is live or (trigger schedule) the last finished run started less than report_build_interval_minutes ago. Marks a run whose lease ran out failed first. The run''s kind: selected (a selector), full (asked, or no succeeded full build of project_checksum within report_full_build_hours) or incremental.';
revoke execute on function private.claim_report_build(text, text, text, integer, text, boolean) from public, anon, authenticated;
grant execute on function private.claim_report_build(text, text, text, integer, text, boolean) to service_role;

-- Rows of every table in analytics, counted now: {"mart": rows}.
create or replace function private.analytics_row_counts()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  mart text;
  n bigint;
  counts jsonb := '{}'::jsonb;
begin
  for mart in
    select c.relname::text from pg_catalog.pg_class c join pg_catalog.pg_namespace s on s.oid = c.relnamespace
     where s.nspname = 'analytics' and c.relkind in ('r', 'p') order by c.relname
  loop
    execute format('select count(*) from analytics.%I', mart) into n;
    counts := counts || jsonb_build_object(mart, n);
  end loop;
  return counts;
end
$$;
comment on function private.analytics_row_counts() is
  'Rows of every table in the analytics schema, as {"mart": rows}.';
revoke execute on function private.analytics_row_counts() from public, anon, authenticated;
grant execute on function private.analytics_row_counts() to service_role;

create or replace function private.finish_report_build(run_id bigint, outcome text, error text default null,
                                                       dbt_version text default null)
returns public.report_runs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  run public.report_runs;
begin
  if finish_report_build.outcome is null or finish_report_build.outcome not in ('succeeded', 'failed') then
    perform private.refuse(422, format('outcome must be succeeded or failed (got %s)', private.quoted(finish_report_build.outcome)),
      hint => 'Send outcome as succeeded or failed.', details => 'outcome');
  end if;
  update public.report_runs r
     set outcome = finish_report_build.outcome,
         finished_at = private.clock_now(),
         error = left(nullif(btrim(finish_report_build.error), ''), 2000),
         dbt_version = left(finish_report_build.dbt_version, 100),
         rows_per_mart = private.analytics_row_counts()
   where r.id = finish_report_build.run_id and r.outcome = 'running'
  returning * into run;
  if run.id is null then
    select * into run from public.report_runs r where r.id = finish_report_build.run_id;
    if run.id is null then
      perform private.refuse(404, format('report run %s does not exist', finish_report_build.run_id),
        hint => 'Finish the run claim_report_build returned.', details => 'run_id');
    end if;
    perform private.refuse(409, format('report run %s already ended (%s%s)', run.id, run.outcome,
                                       coalesce(': ' || run.error, '')),
      hint => 'A run ends once; a run whose lease ran out was marked failed by the next claim.', details => 'run_id');
  end if;
  -- The marts are new tables after a build: PostgREST reloads its schema cache to serve them.
  perform pg_catalog.pg_notify('pgrst', 'reload schema');
  return run;
end
$$;
comment on function private.finish_report_build(bigint, text, text, text) is
  'Ends a running report build as succeeded or failed, with its error and dbt version, recording the rows of every table in analytics; tells PostgREST to reload its schema cache.';
revoke execute on function private.finish_report_build(bigint, text, text, text) from public, anon, authenticated;
grant execute on function private.finish_report_build(bigint, text, text, text) to service_role;
