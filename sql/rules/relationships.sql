-- A student's mentors and a mentor's students, one row per relationship (a mentor and a student
-- who ever had a pack together), live: what the dashboards show at the top of each page. Each
-- reads only the caller's own relationships (security definer; the filter is the caller), so a
-- page needs one call, not a read of every pack, session and seat.
--
-- Per relationship: the sessions left on live packs (active and not expired), booked and used over
-- all packs, the last session that took place (completed or a no-show) and the next scheduled
-- one, the latest pack (its status and expiry), the live seat (or released) with its grace end,
-- one_session_left (live packs hold exactly one session and none is scheduled: the renewal
-- reminder's moment), and renew_product_id: the latest pack's product while it is still sold, the
-- product create_order takes to renew.

-- side: 'mentor_id' (a mentor's students) or 'student_id' (a student's mentors); person: whose;
-- side 'all': every relationship (person is ignored; the admins' export reads it).
-- Dynamic SQL on purpose: the query is planned with the side's column and the person's id, so
-- every table is read through its index on that column (a query written for both sides, with
-- "x is null or ..." filters, read every pack and session: 190 ms at 1M sessions).
create or replace function private.relationships(side text, person uuid)
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $fn$
-- The OUT columns are filled by `return query execute`, which plpgsql_check cannot follow (it
-- warns that each is "maybe unmodified"); the query's columns are checked by the tests instead.
-- @plpgsql_check_options: extra_warnings = false
begin
  if side is null or side not in ('mentor_id', 'student_id', 'all') then
    raise exception 'private.relationships: side must be mentor_id, student_id or all, not %', side;
  end if;
  return query execute format($q$
  with packs as (
    select p.* from public.session_packs p where %1$s
  ),
  pairs as (
    select p.mentor_id, p.student_id,
           coalesce(sum(p.remaining_sessions) filter (where p.status = 'active' and p.expires_at > $2), 0)::integer as remaining,
           sum(p.sessions_total)::integer as total
      from packs p group by 1, 2
  ),
  latest as (
    select distinct on (p.mentor_id, p.student_id) p.mentor_id, p.student_id, p.id, p.status, p.expires_at, p.product_id
      from packs p order by p.mentor_id, p.student_id, p.purchased_at desc, p.id desc
  ),
  sessions as (
    select s.mentor_id, s.student_id,
           count(*) filter (where s.status = 'completed')::integer as completed,
           max(s.starts_at) filter (where s.status in ('completed', 'student_no_show', 'mentor_no_show')) as last_at,
           min(s.starts_at) filter (where s.status = 'scheduled' and s.starts_at > $2) as next_at
      from public.sessions s where %2$s
     group by 1, 2
  )
  select pairs.mentor_id, m.public_name, m.time_zone,
         pairs.student_id, sp.display_name, sp.time_zone,
         pairs.remaining, pairs.total, coalesce(sessions.completed, 0),
         sessions.last_at, sessions.next_at,
         latest.id, latest.status::text, latest.expires_at,
         coalesce(seat.status::text, 'released'), seat.grace_ends_at,
         pairs.remaining = 1 and sessions.next_at is null,
         case when product.is_active then product.id end
    from pairs
    join public.mentors m on m.id = pairs.mentor_id
    join public.profiles sp on sp.id = pairs.student_id
    join latest on latest.mentor_id = pairs.mentor_id and latest.student_id = pairs.student_id
    left join sessions on sessions.mentor_id = pairs.mentor_id and sessions.student_id = pairs.student_id
    left join public.mentorship_products product on product.id = latest.product_id
    left join public.seat_reservations seat
      on seat.mentor_id = pairs.mentor_id and seat.student_id = pairs.student_id and seat.status <> 'released'
   order by sessions.next_at nulls last, m.public_name, sp.display_name
  $q$,
    case when side = 'all' then 'true' else format('p.%I = $1', side) end,
    case when side = 'all' then 'true' else format('s.%I = $1', side) end)
  using person, private.clock_now();
end
$fn$;
comment on function private.relationships(text, uuid) is
  'Relationships (a mentor and a student who had a pack) of one mentor (side mentor_id), one student (student_id) or everyone (all), live: sessions left, booked, used, last and next session, latest pack, seat, one_session_left, renew_product_id.';
revoke execute on function private.relationships(text, uuid) from public, anon, authenticated;

-- The caller's own: as the mentor (their students) or as the student (their mentors).
create or replace function private.my_relationships(as_mentor boolean)
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  select * from private.relationships(case when as_mentor then 'mentor_id' else 'student_id' end,
                                      (select auth.uid()))
  where (select auth.uid()) is not null
$$;
comment on function private.my_relationships(boolean) is
  'The caller''s relationships: as the mentor (their students) or as the student (their mentors).';
revoke execute on function private.my_relationships(boolean) from public, anon;
grant execute on function private.my_relationships(boolean) to authenticated;

create or replace function public.my_mentors()
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.my_relationships(false);
end
$$;
comment on function public.my_mentors() is
$$Your mentors (every mentor you ever had a pack with), one row each, next session first: sessions left on live packs (sessions_remaining) of those bought (sessions_total), completed, the last session that took place and the next scheduled one, the latest pack (status, expiry), your seat (hold, active, grace with its end, or released), one_session_left (one session left and none booked: time to renew) and renew_product_id (the product to renew with create_order, while it is still sold; null otherwise).
Arguments: none. Errors: none (no rows when you never had a pack).$$;
revoke execute on function public.my_mentors() from public, anon;
grant execute on function public.my_mentors() to authenticated;

create or replace function public.my_mentees()
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.my_relationships(true);
end
$$;
comment on function public.my_mentees() is
$$Your students as a mentor (everyone who ever had a pack with you), one row each, next session first: the same columns as my_mentors; one_session_left lists whom to remind to renew.
Arguments: none. Errors: none (no rows when you are not a mentor or nobody bought a pack yet).$$;
revoke execute on function public.my_mentees() from public, anon;
grant execute on function public.my_mentees() to authenticated;
