-- Credits move only through the append-only ledger. Inserting entries moves each pack's
-- remaining_sessions once per statement, by the sum of that statement's entries (a statement
-- trigger over the transition table, so multi-row inserts work); the pack's check constraint
-- (remaining >= 0) refuses entries that would take it below zero.
create or replace function private.tg__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.refuse(403, format('%s is append-only: %s is not allowed', tg_table_name, lower(tg_op)), hint => 'Add a new entry instead.');
  return null;  -- not reached: refuse raises (plpgsql_check cannot know that)
end
$$;
comment on function private.tg__forbid_change() is 'Refuses update, delete and truncate on append-only tables.';
revoke execute on function private.tg__forbid_change() from public, anon, authenticated;

do $$
declare
  t text;
begin
  foreach t in array array['public.session_credit_ledger', 'public.audit_log'] loop
    execute format('drop trigger if exists _100_append_only on %s', t);
    execute format(
      'create trigger _100_append_only before update or delete on %s '
      'for each row execute function private.tg__forbid_change()', t);
    execute format('drop trigger if exists _101_append_only_truncate on %s', t);
    execute format(
      'create trigger _101_append_only_truncate before truncate on %s '
      'for each statement execute function private.tg__forbid_change()', t);
  end loop;
end
$$;

create or replace function private.tg_session_credit_ledger__apply()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.session_packs p
     set remaining_sessions = p.remaining_sessions + n.delta
    from (select e.pack_id, sum(e.delta)::integer as delta
            from new_entries e group by e.pack_id) n
   where p.id = n.pack_id;
  return null;
end
$$;
comment on function private.tg_session_credit_ledger__apply() is
  'Moves each pack''s remaining_sessions by the sum of the statement''s new entries for it.';
revoke execute on function private.tg_session_credit_ledger__apply() from public, anon, authenticated;

drop trigger if exists _100_apply on public.session_credit_ledger;
create trigger _100_apply
  after insert on public.session_credit_ledger
  referencing new table as new_entries
  for each statement execute function private.tg_session_credit_ledger__apply();

-- remaining_sessions never moves except through a ledger entry.
create or replace function private.tg_session_packs__guard_remaining()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if new.remaining_sessions <> new.sessions_total then
      perform private.refuse(422, format('a new pack starts with remaining_sessions = sessions_total (%s)', new.sessions_total));
    end if;
  elsif new.sessions_total <> old.sessions_total then
    perform private.refuse(403, 'sessions_total is fixed at purchase', hint => 'Add or remove credits through session_credit_ledger.');
  elsif new.remaining_sessions <> old.remaining_sessions
        and new.remaining_sessions <> new.sessions_total + (
          select coalesce(sum(l.delta), 0) from public.session_credit_ledger l where l.pack_id = new.id) then
    -- Checked against the ledger itself, so no setting or role can switch it off.
    perform private.refuse(403, 'remaining_sessions changes only through session_credit_ledger', hint => 'Insert a ledger entry (or call the RPC that does).');
  end if;
  return new;
end
$$;
comment on function private.tg_session_packs__guard_remaining() is
  'Keeps remaining_sessions equal to sessions_total plus the pack''s ledger entries.';
revoke execute on function private.tg_session_packs__guard_remaining() from public, anon, authenticated;

drop trigger if exists _100_guard_remaining on public.session_packs;
create trigger _100_guard_remaining
  before insert or update on public.session_packs
  for each row execute function private.tg_session_packs__guard_remaining();
