-- Booking: an admin adds or removes sessions of a pack (adjust_pack_sessions).

create or replace function private.adjust_pack_sessions(pack_id uuid, delta integer, reason text)
returns public.session_packs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.session_packs;
  seat_status public.seat_status;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins can adjust a pack');
  end if;
  if delta is null or delta = 0 or delta not between -52 and 52 then
    perform private.refuse(422, 'delta must be a whole number between -52 and 52, not 0', details => 'delta');
  end if;
  if reason is null or btrim(reason) = '' then
    perform private.refuse(422, 'reason is required', details => 'reason');
  end if;
  if length(reason) > 1000 then
    perform private.refuse(422, 'reason is longer than 1000 characters', details => 'reason');
  end if;
  select * into p from public.session_packs x where x.id = adjust_pack_sessions.pack_id for update;
  if not found then
    perform private.refuse(404, format('no pack with id %s', adjust_pack_sessions.pack_id));
  end if;
  if p.status not in ('active', 'depleted') then
    perform private.refuse(409, format('the pack is %s; only active or used-up packs can be adjusted', p.status));
  end if;
  select x.status into seat_status from public.seat_reservations x where x.id = p.seat_reservation_id;
  if seat_status = 'released' and delta > 0 then
    perform private.refuse(409, 'the student''s seat was released; they need a new pack');
  end if;
  if p.remaining_sessions + delta < 0 then
    perform private.refuse(409, format('the pack has %s sessions left; cannot remove %s', p.remaining_sessions, -delta::bigint));
  end if;
  insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
  values (p.id, p.mentor_id, p.student_id, 'admin_adjustment', delta, btrim(reason), (select auth.uid()));
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values, reason)
  values ((select auth.uid()), 'session_packs.sessions_adjusted', 'session_packs', p.id,
          jsonb_build_object('remaining_sessions', p.remaining_sessions),
          jsonb_build_object('remaining_sessions', p.remaining_sessions + delta, 'delta', delta), btrim(reason));
  perform private.refresh_pack(p.id);
  select * into p from public.session_packs x where x.id = p.id;
  return p;
end
$$;
comment on function private.adjust_pack_sessions(uuid, integer, text) is 'See public.adjust_pack_sessions.';
revoke execute on function private.adjust_pack_sessions(uuid, integer, text) from public, anon;
grant execute on function private.adjust_pack_sessions(uuid, integer, text) to authenticated;
