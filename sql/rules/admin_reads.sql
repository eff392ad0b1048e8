-- What the admins' dashboard reads that no table gives in one request: the instructors with their
-- live figures, page by page, and the relationships (a mentor and a student who had a pack) of one
-- mentor or of everyone. Live data (not the reports, which are as old as their last build); only
-- admins (the functions check the caller, then read as their owner).

-- The instructors matching `search` (name, slug or email; case-insensitive, part of a word),
-- ordered by name, one page: the mentors are filtered, counted and cut to the page first, then
-- each of the page's mentors gets its figures from its own rows (the indexes on mentor_id of
-- sessions, packs and seats), so a page costs the same at 1M sessions as at 1,000.
create or replace function private.admin_instructors(search text, skip_rows integer, max_rows integer)
returns table (
  mentor_id uuid, mentor_name text, slug text, email text, time_zone text,
  is_active boolean, accepting_students boolean,
  seat_capacity integer, seats_taken integer, free_seats integer,
  active_mentees integer, upcoming_sessions integer, sessions_remaining integer,
  sessions_completed integer, last_session_at timestamptz, joined_at timestamptz,
  total_count integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  pattern text;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may list the instructors');
  end if;
  if search is not null and btrim(search) <> '' then
    pattern := '%' || replace(replace(replace(btrim(search), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;
  return query
  with matched as (
    select m.id, m.public_name, m.slug, pr.email, m.time_zone, m.is_active, m.accepting_students,
           m.seat_capacity, m.created_at, (count(*) over ())::integer as total
      from public.mentors m
      join public.profiles pr on pr.id = m.id
     where pattern is null
        or m.public_name ilike pattern
        or m.slug ilike pattern
        or pr.email ilike pattern
     order by m.public_name, m.id
    offset skip_rows limit max_rows
  )
  select x.id, x.public_name, x.slug, x.email, x.time_zone, x.is_active, x.accepting_students,
         x.seat_capacity, taken.n, greatest(0, x.seat_capacity - taken.n),
         mentees.n, upcoming.n, remaining.n, held.completed, held.last_at, x.created_at, x.total
    from matched x
    cross join lateral (select private.seats_taken(x.id, now_) as n) taken
    cross join lateral (
      select count(*)::integer as n from (
        select s.student_id from public.seat_reservations s
         where s.mentor_id = x.id and s.status in ('active', 'grace')
        union
        select p.student_id from public.session_packs p
         where p.mentor_id = x.id and p.status = 'active' and p.expires_at > now_) who) mentees
    cross join lateral (
      select count(*)::integer as n from public.sessions s
       where s.mentor_id = x.id and s.starts_at > now_ and s.status = 'scheduled') upcoming
    cross join lateral (
      select coalesce(sum(p.remaining_sessions), 0)::integer as n from public.session_packs p
       where p.mentor_id = x.id and p.status = 'active' and p.expires_at > now_) remaining
    cross join lateral (
      select count(*) filter (where s.status = 'completed')::integer as completed,
             max(s.starts_at) filter (where s.status in ('completed', 'student_no_show', 'mentor_no_show')) as last_at
        from public.sessions s where s.mentor_id = x.id) held
   order by x.public_name, x.id;
end
$$;
comment on function private.admin_instructors(text, integer, integer) is 'See public.admin_instructors.';
revoke execute on function private.admin_instructors(text, integer, integer) from public, anon;
grant execute on function private.admin_instructors(text, integer, integer) to authenticated;

create or replace function public.admin_instructors(search text default null, skip_rows text default null,
                                                    max_rows text default null)
returns table (
  mentor_id uuid, mentor_name text, slug text, email text, time_zone text,
  is_active boolean, accepting_students boolean,
  seat_capacity integer, seats_taken integer, free_seats integer,
  active_mentees integer, upcoming_sessions integer, sessions_remaining integer,
  sessions_completed integer, last_session_at timestamptz, joined_at timestamptz,
  total_count integer)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.admin_instructors(
    private.text_arg(search, 'search', 200),
    private.integer_arg(coalesce(skip_rows, '0'), 'skip_rows', 0, 1000000),
    private.integer_arg(coalesce(max_rows, '25'), 'max_rows', 1, 200));
end
$$;
comment on function public.admin_instructors(text, text, text) is
$$Admins: the instructors (every mentor, listed or not) ordered by name, one page, each with its live figures: seat_capacity, seats_taken (active, grace and live holds) and free_seats, active_mentees (an active seat or grace, or a live pack), upcoming_sessions (scheduled, not started), sessions_remaining (on live packs), sessions_completed, last_session_at (the last held: completed or a no-show), joined_at; total_count is how many mentors match the search (the same on every row).
Arguments: search (optional text, at most 200 characters: part of the name, slug or email, any case), skip_rows (optional whole number 0 to 1000000, default 0), max_rows (optional 1 to 200, default 25).
Errors: 403 PT403 not an admin; 422 PT422 a malformed argument (details names it).$$;
revoke execute on function public.admin_instructors(text, text, text) from public, anon;
grant execute on function public.admin_instructors(text, text, text) to authenticated;

-- The relationships of one mentor (the admins' "expand a mentor") or of everyone (the admins'
-- CSV export), with both people's emails, as one JSON array: one request however many there are
-- (a set would be cut at PostgREST's db-max-rows, and paging it would aggregate everything again
-- for every page).
create or replace function private.admin_relationships(for_mentor_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  answer jsonb;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may read every relationship');
  end if;
  if for_mentor_id is not null and not exists (select from public.mentors m where m.id = for_mentor_id) then
    perform private.refuse(404, 'no mentor with that mentor_id', 'Send mentor_id as the UUID of a mentor.', 'mentor_id');
  end if;
  select coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object('mentor_email', mp.email, 'student_email', sp.email)
                            order by r.mentor_name, r.mentor_id, r.next_session_at nulls last, r.student_name, r.student_id),
                  '[]'::jsonb)
    into answer
    from private.relationships(case when for_mentor_id is null then 'all' else 'mentor_id' end, for_mentor_id) r
    join public.profiles mp on mp.id = r.mentor_id
    join public.profiles sp on sp.id = r.student_id;
  return answer;
end
$$;
comment on function private.admin_relationships(uuid) is 'See public.admin_relationships.';
revoke execute on function private.admin_relationships(uuid) from public, anon;
grant execute on function private.admin_relationships(uuid) to authenticated;

create or replace function public.admin_relationships(mentor_id text default null)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.admin_relationships(private.uuid_arg(mentor_id, 'mentor_id', false));
end
$$;
comment on function public.admin_relationships(text) is
$$Admins: the relationships (a mentor and a student who ever had a pack together) of one mentor, or of every mentor without mentor_id, live, as a JSON array ordered by mentor, then next session: the columns of my_mentees (sessions_remaining on live packs, sessions_total, sessions_completed, last_session_at, next_session_at, the latest pack's status and expiry, seat_status, ...) and mentor_email, student_email.
Arguments: mentor_id (optional UUID).
Errors: 403 PT403 not an admin; 404 PT404 no mentor with that id; 422 PT422 a malformed mentor_id.$$;
revoke execute on function public.admin_relationships(text) from public, anon;
grant execute on function public.admin_relationships(text) to authenticated;
