{#
  Run after every mart build (dbt_project.yml's post-hook), in the build's transaction: a table
  rebuilt by dbt is a new table, so its grants and policies are made again each time.
  - authenticated: only where private.is_admin() (students and mentors read nothing);
  - analyst: every row (the role reads `analytics` and nothing else);
  - service_role bypasses RLS, as in Supabase; anon gets nothing; nobody writes.
  tests/test_reports_*.py apply these same statements to the tests' own marts (testing/reports.py).
#}
{% macro analytics_read_policies() %}
  revoke all on {{ this }} from public, anon, authenticated, service_role, analyst;
  grant select on {{ this }} to authenticated, service_role, analyst;
  alter table {{ this }} enable row level security;
  drop policy if exists "admins read the report" on {{ this }};
  create policy "admins read the report" on {{ this }} for select to authenticated using ((select private.is_admin()));
  drop policy if exists "analysts read the report" on {{ this }};
  create policy "analysts read the report" on {{ this }} for select to analyst using (true);
{% endmacro %}
