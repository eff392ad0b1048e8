-- Embeds a client needs, as PostgREST computed relationships: from a session, pack, seat or
-- order, `select=*,mentor(public_name,slug),student(display_name,time_zone)` returns the mentor's
-- row and the student's profile (each under its own RLS: a mentor sees their students, a student
-- their own profile, anyone an active mentor). Foreign keys would name the relationships after
-- the tables and add a key check to every booking (sessions link to their pack, not to the
-- people, and `profiles(...)` from a session follows canceled_by); a function costs writes
-- nothing. SQL, stable, invoker, no SET clause: PostgREST's query inlines it.

create or replace function public.mentor(public.sessions)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.sessions) is
  'The session''s mentor, for embedding: sessions?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.sessions) from public, anon;
grant execute on function public.mentor(public.sessions) to authenticated, service_role;

create or replace function public.student(public.sessions)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.sessions) is
  'The session''s student (their profile), for embedding: sessions?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.sessions) from public, anon;
grant execute on function public.student(public.sessions) to authenticated, service_role;

create or replace function public.mentor(public.session_packs)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.session_packs) is
  'The pack''s mentor, for embedding: session_packs?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.session_packs) from public, anon;
grant execute on function public.mentor(public.session_packs) to authenticated, service_role;

create or replace function public.student(public.session_packs)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.session_packs) is
  'The pack''s student (their profile), for embedding: session_packs?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.session_packs) from public, anon;
grant execute on function public.student(public.session_packs) to authenticated, service_role;

create or replace function public.mentor(public.seat_reservations)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.seat_reservations) is
  'The seat''s mentor, for embedding: seat_reservations?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.seat_reservations) from public, anon;
grant execute on function public.mentor(public.seat_reservations) to authenticated, service_role;

create or replace function public.student(public.seat_reservations)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.seat_reservations) is
  'The seat''s student (their profile), for embedding: seat_reservations?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.seat_reservations) from public, anon;
grant execute on function public.student(public.seat_reservations) to authenticated, service_role;

create or replace function public.mentor(public.orders)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.orders) is
  'The order''s mentor, for embedding: orders?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.orders) from public, anon;
grant execute on function public.mentor(public.orders) to authenticated, service_role;

create or replace function public.student(public.orders)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.orders) is
  'The order''s student (their profile), for embedding: orders?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.orders) from public, anon;
grant execute on function public.student(public.orders) to authenticated, service_role;
