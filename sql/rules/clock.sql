-- The one clock every rule reads. Tests freeze it (private.clock, or the transaction-local
-- setting mentorships.now inside a pgTAP transaction); in production it is now().
-- plpgsql, not SQL: Postgres cannot inline a SQL function whose body has a subquery, and a SQL
-- function that is not inlined is parsed and planned again at each call site in every
-- transaction (~50 us, several times per booking); plpgsql keeps its plan for the connection.
-- No SET search_path (every name is qualified, and it is not a security definer): a SET clause
-- would change and restore the setting at each of its several calls per booking.
create or replace function private.clock_now()
returns timestamptz
language plpgsql
stable
as $$
declare
  fixed text := pg_catalog.current_setting('mentorships.now', true);
begin
  if fixed <> '' then
    return fixed::timestamptz;
  end if;
  return coalesce((select c.frozen_at from private.clock c where c.id), pg_catalog.now());
end
$$;
comment on function private.clock_now() is
  'Current instant for business rules: the frozen test clock when set, else now().';
-- The RPCs (security definers) call it as its owner; workers call it as the service role.
revoke execute on function private.clock_now() from public, anon, authenticated;
grant execute on function private.clock_now() to service_role;
grant select on table private.clock to service_role;
