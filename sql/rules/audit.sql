-- Every state change of packs, seats and sessions lands in the audit log, with who did it
-- (the JWT's sub; null for workers and cron jobs). Trigger arguments name the watched columns.
create or replace function private.tg__audit_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
  new_row jsonb := to_jsonb(new);
  before jsonb := '{}';
  after jsonb := '{}';
  col text;
begin
  foreach col in array tg_argv loop
    if tg_op = 'INSERT' or old_row -> col is distinct from new_row -> col then
      after := after || jsonb_build_object(col, new_row -> col);
      if tg_op = 'UPDATE' then
        before := before || jsonb_build_object(col, old_row -> col);
      end if;
    end if;
  end loop;
  if tg_op = 'UPDATE' and after = '{}' then
    return null;
  end if;
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values)
  values (
    (select auth.uid()),
    tg_table_name || case
      when tg_op = 'INSERT' then '.created'
      when after ? 'status' then '.' || (new_row ->> 'status')
      else '.changed' end,
    tg_table_name, (new_row ->> 'id')::uuid,
    case when tg_op = 'UPDATE' then before end, after);
  return null;
end
$$;
comment on function private.tg__audit_changes() is
  'Writes an audit_log row for an insert, or for an update that changed one of the columns named as trigger arguments.';
revoke execute on function private.tg__audit_changes() from public, anon, authenticated;

drop trigger if exists _300_audit on public.session_packs;
create trigger _300_audit after insert or update on public.session_packs
  for each row execute function private.tg__audit_changes('status');
drop trigger if exists _300_audit on public.seat_reservations;
create trigger _300_audit after insert or update on public.seat_reservations
  for each row execute function private.tg__audit_changes('status', 'grace_ends_at');
drop trigger if exists _300_audit on public.sessions;
create trigger _300_audit after insert or update on public.sessions
  for each row execute function private.tg__audit_changes('status', 'starts_at');
