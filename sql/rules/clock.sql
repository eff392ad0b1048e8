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

-- The same clock for clients: what "now" is for the rules (the dashboards split upcoming from
-- past sessions by it, so a frozen demo or test clock shows the same picture the rules see).
-- The definer reads the clock as its owner; the API's function is an invoker that calls it.
create or replace function private.platform_now()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$ select private.clock_now() $$;
comment on function private.platform_now() is 'private.clock_now() for public.platform_now().';
revoke execute on function private.platform_now() from public, anon;
grant execute on function private.platform_now() to authenticated, service_role;

create or replace function public.platform_now()
returns timestamptz
language sql
stable
set search_path = ''
as $$ select private.platform_now() $$;
comment on function public.platform_now() is
  'The instant the rules read as now (the frozen clock of a test or demo, else now()).';
revoke execute on function public.platform_now() from public, anon;
grant execute on function public.platform_now() to authenticated, service_role;
