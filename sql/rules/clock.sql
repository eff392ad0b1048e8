-- The one clock every rule reads. Tests freeze it (private.clock, or the transaction-local
-- setting mentorships.now inside a pgTAP transaction); in production it is now().
create or replace function private.clock_now()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('mentorships.now', true), '')::timestamptz,
    (select c.frozen_at from private.clock c where c.id),
    pg_catalog.now()
  )
$$;
comment on function private.clock_now() is
  'Current instant for business rules: the frozen test clock when set, else now().';
revoke execute on function private.clock_now() from public, anon;
grant execute on function private.clock_now() to authenticated, service_role;
