-- The reports' schemas (dbt/): `analytics` holds the marts, served by PostgREST to admins (RLS on
-- every mart, made by the build) and read in SQL by the `analyst` role; `analytics_staging` and
-- `analytics_intermediate` hold the build's views, which nobody but their owner may read (a view
-- owned by the builder would bypass the app tables' RLS).
create schema if not exists analytics;
create schema if not exists analytics_staging;
create schema if not exists analytics_intermediate;
comment on schema analytics is 'Reports (dbt marts): admins read them through the API, the analyst role in SQL.';
comment on schema analytics_staging is 'dbt staging views over the app tables; owner only.';
comment on schema analytics_intermediate is 'dbt intermediate models; owner only.';
revoke all on schema analytics, analytics_staging, analytics_intermediate from public;

-- The analysts' login: reads `analytics` and nothing else. It is created without a password; the
-- stack sets one from MENTORSHIPS_ANALYST_PASSWORD (a hosted project sets its own).
do $$
begin
  if not exists (select from pg_roles where rolname = 'analyst') then
    create role analyst nologin noinherit;
  end if;
end
$$;
comment on role analyst is 'Analysts in SQL: reads the analytics schema only, statement timeout 60 s.';
alter role analyst set statement_timeout = '60s';
alter role analyst set search_path = analytics;
revoke all on schema public, private from analyst;
grant usage on schema analytics to analyst, authenticated, service_role;
