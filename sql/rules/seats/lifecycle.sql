-- Seats and pack life cycle: depletion, grace, renewal. Called by the booking and payment rules
-- and by the jobs in jobs.sql; all are idempotent.

-- A seat's pending grace warning is void once the seat is renewed or released.
create or replace function private.void_grace_warnings(seat public.seat_reservations)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  voided integer;
begin
  update public.notifications n
     set status = 'voided', voided_at = private.clock_now()
   where n.recipient_id = seat.student_id and n.kind = 'grace_warning' and n.status = 'pending'
     and n.payload ->> 'seat_id' = seat.id::text;
  get diagnostics voided = row_count;
  return voided;
end
$$;
comment on function private.void_grace_warnings(public.seat_reservations) is
  'Voids the pending grace warning of a seat (renewed or released).';
revoke execute on function private.void_grace_warnings(public.seat_reservations) from public, anon, authenticated;

-- A seat follows its packs: active while one of them is active, else in grace (a warning goes
-- out later, then release); back to active when a pack becomes active again (renewal).
create or replace function private.refresh_seat(seat_id uuid)
returns public.seat_status
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  seat public.seat_reservations;
  live boolean;
  grace_hours integer;
begin
  select * into seat from public.seat_reservations s where s.id = refresh_seat.seat_id for update;
  if not found then
    return null;
  end if;
  live := exists (select from public.session_packs p where p.seat_reservation_id = seat.id and p.status = 'active');
  if seat.status = 'active' and not live then
    select p.grace_period_hours into grace_hours
      from public.session_packs p where p.seat_reservation_id = seat.id
     order by p.purchased_at desc limit 1;
    if grace_hours is null then
      select ps.grace_period_hours into grace_hours from public.platform_settings ps;
    end if;
    update public.seat_reservations
       set status = 'grace', grace_started_at = now_, grace_ends_at = now_ + make_interval(hours => grace_hours)
     where id = seat.id
     returning * into seat;
    perform private.notify(array[seat.student_id], 'grace_started',
                           format('seat:%s:grace:%s:started', seat.id, extract(epoch from now_)),
                           jsonb_build_object('seat_id', seat.id, 'mentor_id', seat.mentor_id,
                                              'grace_ends_at', seat.grace_ends_at));
  elsif seat.status = 'grace' and live then
    update public.seat_reservations
       set status = 'active', activated_at = now_, grace_started_at = null, grace_ends_at = null
     where id = seat.id
     returning * into seat;
    perform private.void_grace_warnings(seat);
  end if;
  return seat.status;
end
$$;
comment on function private.refresh_seat(uuid) is
  'Puts a seat into grace when none of its packs is active, and back to active when one is.';
revoke execute on function private.refresh_seat(uuid) from public, anon, authenticated;

-- A pack is depleted when it has no credits and no scheduled session; credits coming back
-- (mentor cancel, mentor no-show, admin adjustment) make it active again.
create or replace function private.refresh_pack(pack_id uuid)
returns public.pack_status
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.session_packs;
begin
  select * into p from public.session_packs sp where sp.id = refresh_pack.pack_id for update;
  if not found then
    return null;
  end if;
  if p.status = 'active' and p.remaining_sessions = 0
     and not exists (select from public.sessions s where s.pack_id = p.id and s.status = 'scheduled') then
    update public.session_packs set status = 'depleted', depleted_at = now_ where id = p.id returning * into p;
  elsif p.status = 'depleted' and p.remaining_sessions > 0 and p.expires_at > now_ then
    update public.session_packs set status = 'active', depleted_at = null where id = p.id returning * into p;
  end if;
  perform private.refresh_seat(p.seat_reservation_id);
  return p.status;
end
$$;
comment on function private.refresh_pack(uuid) is
  'Marks a pack depleted (or active again) from its credits and scheduled sessions, then refreshes its seat.';
revoke execute on function private.refresh_pack(uuid) from public, anon, authenticated;
