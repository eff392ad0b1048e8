-- Booking: what a slot is (slot_fits) and whether a start is bookable for a pack now (check_slot).

-- THE rule of what a slot is: starts_at is on the mentor's grid (counted from local midnight in
-- the mentor's zone), at a local time that exists and is not the repeated hour of a DST change,
-- inside one of that weekday's working windows, and the slot ends (in real time) by the window's
-- end. Booking checks it directly; the availability listing (availability.sql) is exactly the
-- instants it accepts.
create or replace function private.slot_fits(m public.mentors, starts_at timestamptz)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  local_start timestamp := starts_at at time zone m.time_zone;
  day date := local_start::date;
begin
  return extract(second from local_start) = 0
     and (extract(hour from local_start) * 60 + extract(minute from local_start))::integer % m.slot_grid_minutes = 0
     and local_start at time zone m.time_zone = starts_at
     and exists (
           select from jsonb_array_elements(m.working_hours) w
            where (w ->> 'weekday')::integer = extract(isodow from day)
              and local_start >= day + (w ->> 'start')::time
              and starts_at + make_interval(mins => m.slot_minutes)
                  <= (day + case when w ->> 'end' = '24:00' then interval '24 hours'
                                 else (w ->> 'end')::time - time '00:00' end) at time zone m.time_zone);
end
$$;
comment on function private.slot_fits(public.mentors, timestamptz) is
  'True when starts_at is a slot of the mentor: on the grid, inside working hours in the mentor''s zone, DST-correct.';
-- Only definers (check_slot, the booking RPCs) call it: no API role needs it.
revoke execute on function private.slot_fits(public.mentors, timestamptz) from public, anon, authenticated;
grant execute on function private.slot_fits(public.mentors, timestamptz) to service_role;


-- Is this start a valid slot for this pack at now_ (the caller's business clock)? Raises the
-- first rule it breaks.
-- (The version that read the clock itself.)
drop function if exists private.check_slot(public.mentors, public.session_packs, timestamptz);

create or replace function private.check_slot(m public.mentors, p public.session_packs, starts_at timestamptz,
                                              now_ timestamptz)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  local_start timestamp := starts_at at time zone m.time_zone;
  slot interval := make_interval(mins => m.slot_minutes);
  closed text;
begin
  if starts_at <= now_ then
    perform private.refuse(422, format('starts_at %s is in the past', starts_at), details => 'starts_at');
  end if;
  if extract(second from local_start) <> 0
     or (extract(hour from local_start) * 60 + extract(minute from local_start))::integer % m.slot_grid_minutes <> 0 then
    perform private.refuse(422, format('starts_at is not on the mentor''s %s-minute grid (%s in %s)', m.slot_grid_minutes, to_char(local_start, 'YYYY-MM-DD HH24:MI:SS'), m.time_zone), hint => 'Pick a slot from mentor_availability.', details => 'starts_at');
  end if;
  if not private.slot_fits(m, starts_at) then
    perform private.refuse(422, format('starts_at is outside the mentor''s working hours (%s in %s)', to_char(local_start, 'Dy YYYY-MM-DD HH24:MI'), m.time_zone), hint => 'Pick a slot from mentor_availability.', details => 'starts_at');
  end if;
  if starts_at < now_ + make_interval(mins => m.min_notice_minutes) then
    perform private.refuse(422, format('sessions with this mentor must be booked at least %s minutes ahead', m.min_notice_minutes), details => 'starts_at');
  end if;
  if starts_at > now_ + make_interval(days => m.booking_horizon_days) then
    perform private.refuse(422, format('sessions with this mentor can be booked at most %s days ahead', m.booking_horizon_days), details => 'starts_at');
  end if;
  if starts_at + slot > p.expires_at then
    perform private.refuse(422, format('the session would end after the pack expires (%s)', p.expires_at), details => 'starts_at');
  end if;
  -- Fail closed: busy times unknown (stale or revoked Google Calendar sync) is never free.
  closed := private.calendar_closed(m.id, now_);
  if closed is not null then
    perform private.refuse(409, closed,
      hint => 'Try again later: the mentor''s calendar must sync first (the mentor may need to reconnect Google Calendar).');
  end if;
  if exists (select from private.calendar_busy_intervals b
              where b.mentor_id = m.id
                and tstzrange(b.starts_at, b.ends_at)
                    && tstzrange(check_slot.starts_at,
                                 check_slot.starts_at + slot + make_interval(mins => m.buffer_minutes))) then
    perform private.refuse(409, 'the mentor is busy at that time', hint => 'Pick another slot.');
  end if;
end
$$;
comment on function private.check_slot(public.mentors, public.session_packs, timestamptz, timestamptz) is
  'Raises PT422/PT409 when starts_at is not a bookable slot for the pack (past, off grid, outside hours, notice, horizon, pack expiry, calendar sync stale, calendar busy).';
revoke execute on function private.check_slot(public.mentors, public.session_packs, timestamptz, timestamptz)
  from public, anon, authenticated;
