-- Free seats, for the public catalog: capacity minus what private.seats_taken counts
-- (seats/capacity.sql, the rule the capacity trigger enforces).
create or replace function private.mentor_free_seats(mentor_id uuid)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select greatest(0, m.seat_capacity - private.seats_taken(m.id, private.clock_now()))
  from public.mentors m
  where m.id = mentor_free_seats.mentor_id
$$;
comment on function private.mentor_free_seats(uuid) is
  'Seats a mentor can still give: capacity - (active + grace + unexpired holds), never below 0.';
revoke execute on function private.mentor_free_seats(uuid) from public;
grant execute on function private.mentor_free_seats(uuid) to anon, authenticated, service_role;

-- PostgREST computed field: GET /rest/v1/mentors?select=*,free_seats
create or replace function public.free_seats(public.mentors)
returns integer
language sql
stable
set search_path = ''
as $$
  select private.mentor_free_seats($1.id)
$$;
comment on function public.free_seats(public.mentors) is
  'Computed field of mentors: seats still free (select=*,free_seats).';
revoke execute on function public.free_seats(public.mentors) from public;
grant execute on function public.free_seats(public.mentors) to anon, authenticated, service_role;
