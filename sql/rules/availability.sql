-- Availability: the slots a mentor can be booked for, as every booking screen lists them
-- (public.mentor_availability in api.sql is the RPC). private.slot_fits (booking/slots.sql) is THE rule
-- of what a slot is, and booking checks it; the listing here generates exactly the instants it
-- accepts, set-based, in one query (tests/sql/rules/test_slots.py holds the two together across
-- DST changes, odd offsets, grids and windows).

-- The mentor's slots starting in [from_at, to_at), in order, set-based: each working window steps
-- through its weekday's local dates a week apart (from the day before from_at's, for a clock turned
-- back, to to_at's), each window's grid is stepped by generate_series in local wall time from local
-- midnight, and each start is read as an instant once. A start is a slot exactly when slot_fits says so:
--   * its wall time exists and is not the first pass of a repeated hour: the instant it names reads
--     back as the same wall time (a time in a spring-forward gap names an instant whose wall time
--     is later; a repeated time names its second pass);
--   * it is on the grid, from the window's start on (by construction), on the window's local day;
--   * the slot ends, in real time, by the window's end as Postgres reads that wall time
--     (closes_at). The grid runs up to the wall time of the last start that ends by then (on a
--     day the clocks go back, later than end minus slot length) and to to_at's wall time; windows
--     that close by from_at are skipped. Both bounds only drop starts that cannot be slots.
-- SQL, security invoker and without a SET clause, so the planner inlines it into the caller's
-- query; it reads no table and names everything qualified. "offset 0" keeps a subquery's values
-- computed once per row of its level (the mentor's fields once, a window's close once per day, a
-- start's instant once), where the planner would otherwise repeat the expression at every use.
create or replace function private.working_slots(m public.mentors, from_at timestamptz, to_at timestamptz)
returns table (starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
as $$
  select s.starts_at, s.starts_at + p.slot
    from (select m.time_zone as zone,
                 (from_at at time zone m.time_zone)::date - 1 as first_day,
                 to_at at time zone m.time_zone as local_to,
                 pg_catalog.make_interval(mins => m.slot_minutes) as slot,
                 pg_catalog.make_interval(mins => m.slot_grid_minutes) as grid,
                 m.slot_grid_minutes as grid_minutes,
                 m.working_hours
          offset 0) p  -- offset 0 here and below: computed once, not again at every use
   cross join lateral pg_catalog.jsonb_array_elements(p.working_hours) w
   -- the window's days: its weekday's dates from first_day on, a week apart
   cross join lateral pg_catalog.generate_series(
         (p.first_day + ((w ->> 'weekday')::integer - extract(isodow from p.first_day)::integer + 7) % 7)::timestamp,
         p.local_to, interval '7 days') d (day)
   cross join lateral (
         select d.day + pg_catalog.make_interval(mins => ((extract(epoch from (w ->> 'start')::time)::integer / 60
                                                          + p.grid_minutes - 1) / p.grid_minutes * p.grid_minutes))
                  as first_start,
                (d.day + case when w ->> 'end' = '24:00' then interval '24 hours'
                              else (w ->> 'end')::time - time '00:00' end) at time zone p.zone as closes_at
         offset 0) c
   cross join lateral pg_catalog.generate_series(
         c.first_start,
         least((c.closes_at - p.slot) at time zone p.zone, d.day + interval '23:59', p.local_to),
         p.grid) l (local_start)
   cross join lateral (select l.local_start at time zone p.zone as starts_at offset 0) s
   where c.closes_at > from_at
     and s.starts_at at time zone p.zone = l.local_start
     and s.starts_at + p.slot <= c.closes_at
     and s.starts_at >= from_at
     and s.starts_at < to_at
   order by 1
$$;
comment on function private.working_slots(public.mentors, timestamptz, timestamptz) is
  'Slots on the mentor''s grid inside working hours (mentor''s zone, DST-correct) starting in [from_at, to_at): exactly the instants private.slot_fits accepts.';
-- Only private.mentor_availability (a definer) calls it: no API role needs it.
revoke execute on function private.working_slots(public.mentors, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function private.working_slots(public.mentors, timestamptz, timestamptz) to service_role;

-- Bookable slots: working_slots from the notice to the horizon, after now, minus every slot whose
-- range with buffer overlaps a scheduled session (with its buffer) or a calendar busy time. Those
-- are read once (the two gist indexes, only what overlaps the asked range) into one multirange, and
-- each slot is a single range test against it; one statement. Its plan is made once per connection
-- (force_generic_plan: a custom plan, where the mentor row is a constant and looks cheaper, was
-- made again at every call, ~0.5 ms), and never JIT-compiled (generate_series' default estimate of
-- 1000 rows, nested, puts its cost far above jit_above_cost; compiling took 9 ms to 275 ms a call).
create or replace function private.mentor_availability(mentor_id uuid, from_at timestamptz, to_at timestamptz)
returns table (starts_at timestamptz, ends_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
  now_ timestamptz := private.clock_now();
  m public.mentors;
  lo timestamptz;
  hi timestamptz;
  buffer interval;
begin
  if mentor_availability.mentor_id is null or from_at is null or to_at is null then
    perform private.refuse(422, 'mentor_id, from_at and to_at are required');
  end if;
  if to_at <= from_at then
    perform private.refuse(422, 'to_at must be after from_at', details => 'to_at');
  end if;
  if to_at - from_at > interval '35 days' then
    perform private.refuse(422, 'ask for at most 35 days at a time', details => 'to_at');
  end if;
  select * into m from public.mentors x where x.id = mentor_availability.mentor_id and x.is_active;
  if not found then
    perform private.refuse(404, format('no active mentor with id %s', mentor_availability.mentor_id));
  end if;
  lo := greatest(from_at, now_ + make_interval(mins => m.min_notice_minutes));
  hi := least(to_at, now_ + make_interval(days => m.booking_horizon_days));
  buffer := make_interval(mins => m.buffer_minutes);
  -- Fail closed: a connected mentor whose calendar sync is stale offers nothing (google/busy.sql).
  if hi <= lo or private.calendar_closed(m.id, now_) is not null then
    return;
  end if;
  return query
    with busy as (
      select coalesce(pg_catalog.range_agg(r), '{}') as ranges
        from (select pg_catalog.tstzrange(x.starts_at, x.blocked_until) as r
                from public.sessions x
               where x.mentor_id = m.id and x.status = 'scheduled'
                 and pg_catalog.tstzrange(x.starts_at, x.blocked_until)
                     && pg_catalog.tstzrange(lo, hi + make_interval(mins => m.slot_minutes) + buffer)
              union all
              select pg_catalog.tstzrange(b.starts_at, b.ends_at)
                from private.calendar_busy_intervals b
               where b.mentor_id = m.id
                 and pg_catalog.tstzrange(b.starts_at, b.ends_at)
                     && pg_catalog.tstzrange(lo, hi + make_interval(mins => m.slot_minutes) + buffer)) taken
    )
    select s.starts_at, s.ends_at
      from private.working_slots(m, lo, hi) s, busy
     where s.starts_at > now_  -- with no notice, the slot starting this instant has passed already
       and not (busy.ranges && pg_catalog.tstzrange(s.starts_at, s.ends_at + buffer))
     order by s.starts_at;
end
$$;
comment on function private.mentor_availability(uuid, timestamptz, timestamptz) is
  'Bookable slots of an active mentor (see public.mentor_availability).';
revoke execute on function private.mentor_availability(uuid, timestamptz, timestamptz) from public;
grant execute on function private.mentor_availability(uuid, timestamptz, timestamptz) to anon, authenticated, service_role;
