-- The one clock every rule reads. Tests freeze it (private.clock, or the transaction-local
-- setting mentorships.now inside a pgTAP transaction); in production it is now().
-- Plain SQL with qualified names and no SET clause, so Postgres inlines it into its callers.
create or replace function private.clock_now()
returns timestamptz
language sql
stable
as $$
  select coalesce(
    nullif(pg_catalog.current_setting('mentorships.now', true), '')::timestamptz,
    (select c.frozen_at from private.clock c where c.id),
    pg_catalog.now()
  )
$$;
comment on function private.clock_now() is
  'Current instant for business rules: the frozen test clock when set, else now().';
-- The RPCs (security definers) call it as its owner; workers call it as the service role.
revoke execute on function private.clock_now() from public, anon, authenticated;
grant execute on function private.clock_now() to service_role;
grant select on table private.clock to service_role;
