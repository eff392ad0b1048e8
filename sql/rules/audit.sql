-- Every state change of packs, seats, sessions, orders and payments lands in the audit log, with who did it
-- (the JWT's sub; null for workers, cron jobs and the service role), and so does every admin action the
-- rules do not log themselves: roles, mentors listed or not, prices, products retired, promotion codes,
-- platform settings. Trigger arguments name the watched columns.
create or replace function private.tg__audit_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
  new_row jsonb := to_jsonb(new);
  before jsonb := '{}'::jsonb;
  after jsonb := '{}'::jsonb;
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
    tg_table_name, case when jsonb_typeof(new_row -> 'id') = 'string' then (new_row ->> 'id')::uuid end,
    case when tg_op = 'UPDATE' then before end, after);
  return null;
end
$$;
comment on function private.tg__audit_changes() is
  'Writes an audit_log row for an insert, or for an update that changed one of the columns named as trigger arguments.';
revoke execute on function private.tg__audit_changes() from public, anon, authenticated;

do $$
declare
  t record;
  args text;
begin
  for t in select * from (values ('session_packs', array['status'], true),
                                 ('seat_reservations', array['status', 'grace_ends_at'], true),
                                 ('sessions', array['status', 'starts_at'], true),
                                 ('orders', array['status'], true),
                                 ('payments', array['status', 'refunded_cents'], true),
                                 ('profiles', array['role'], false),
                                 ('mentors', array['is_active', 'accepting_students', 'seat_capacity'], true),
                                 ('mentorship_products', array['is_active', 'price_cents'], true),
                                 ('promotion_codes', array['code', 'is_active', 'valid_until', 'max_redemptions'], true),
                                 ('platform_settings', array['seat_hold_minutes', 'grace_period_hours',
                                   'grace_warning_hours', 'cancel_notice_hours', 'video_join_early_minutes',
                                   'video_join_late_minutes', 'default_sessions_per_pack',
                                   'default_pack_validity_days', 'default_currency'], true)) v (name, cols, on_insert)
  loop
    args := (select string_agg(quote_literal(c), ', ') from unnest(t.cols) c);
    execute format('drop trigger if exists _300_audit on public.%I', t.name);  -- its former name
    execute format('drop trigger if exists _300_audit_insert on public.%I', t.name);
    execute format('drop trigger if exists _301_audit_update on public.%I', t.name);
    if t.on_insert then  -- a sign-up is no admin action: profiles are audited on change only
      execute format('create trigger _300_audit_insert after insert on public.%I for each row'
                     ' execute function private.tg__audit_changes(%s)', t.name, args);
    end if;
    -- the WHEN clause spares updates that change none of the columns the trigger's cost
    execute format('create trigger _301_audit_update after update on public.%I for each row when (%s)'
                   ' execute function private.tg__audit_changes(%s)', t.name,
                   (select string_agg(format('old.%1$I is distinct from new.%1$I', c), ' or ')
                      from unnest(t.cols) c), args);
  end loop;
end
$$;
