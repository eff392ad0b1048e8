-- Seats: capacity. One function counts the seats a mentor has given (seats_taken); the public
-- catalog (catalog.sql) and the capacity trigger below both use it.

-- THE rule of what takes a seat: an active or grace seat, or a hold that has not expired at `at`.
-- except_seat_id leaves one seat out (the capacity trigger's own row).
create or replace function private.seats_taken(mentor_id uuid, at timestamptz, except_seat_id uuid default null)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select count(*)::integer
  from public.seat_reservations s
  where s.mentor_id = seats_taken.mentor_id
    and s.id is distinct from seats_taken.except_seat_id
    and (s.status in ('active', 'grace')
         or (s.status = 'hold' and s.hold_expires_at > seats_taken.at))
$$;
comment on function private.seats_taken(uuid, timestamptz, uuid) is
  'Seats a mentor has given at a time: active + grace + holds not expired then (optionally leaving one seat out).';
revoke execute on function private.seats_taken(uuid, timestamptz, uuid) from public, anon, authenticated;

-- Capacity counts active and grace seats plus unexpired holds, and can never be exceeded: the
-- mentor row is locked while a seat starts counting, so concurrent holds queue up behind it.
create or replace function private.tg_seat_reservations__enforce_capacity()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  capacity integer;
  used integer;
begin
  if new.status = 'released' or (new.status = 'hold' and new.hold_expires_at <= now_) then
    return new;
  end if;
  if tg_op = 'UPDATE' and old.status <> 'released'
     and not (old.status = 'hold' and old.hold_expires_at <= now_) then
    return new;  -- it counted already
  end if;
  select m.seat_capacity into capacity from public.mentors m where m.id = new.mentor_id for update;
  used := private.seats_taken(new.mentor_id, now_, except_seat_id => new.id);
  if used >= capacity then
    perform private.refuse(409, format('the mentor has no free seat (%s of %s taken)', used, capacity), hint => 'Try again when a seat frees up.');
  end if;
  return new;
end
$$;
comment on function private.tg_seat_reservations__enforce_capacity() is
  'Refuses a seat that would take the mentor past seat_capacity (active + grace + live holds).';
revoke execute on function private.tg_seat_reservations__enforce_capacity() from public, anon, authenticated;

drop trigger if exists _100_enforce_capacity on public.seat_reservations;
create trigger _100_enforce_capacity
  before insert or update of status, hold_expires_at on public.seat_reservations
  for each row execute function private.tg_seat_reservations__enforce_capacity();
