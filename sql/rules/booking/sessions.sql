-- Booking: the helpers every session change uses (save a session, who is acting, lock a session).
-- Booking rules (booking/*.sql): slots, book, cancel, reschedule, close (complete, no-show), admin
-- adjustment, video access. Clients call the public functions (POST /rest/v1/rpc/NAME); each is a
-- thin security-invoker wrapper over a security-definer function in private, which checks who
-- the caller is and every rule. Errors: PT403 not yours, PT404 unknown, PT409 conflict,
-- PT422 invalid input (PostgREST answers with that HTTP status and the message).
-- Lock order everywhere: pack, then session, then seat, then mentor.

-- Writes a session row. Overlaps are refused with a message a person can act on; the exclusion
-- constraints still decide a race between two concurrent writers (PostgREST answers their
-- 23P01 with 409). No exception block here: it would open a subtransaction on every booking.
create or replace function private.save_session(s public.sessions)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  saved public.sessions;
begin
  -- Bookings that could overlap take turns from here to commit, so the checks below see every
  -- committed session and a lost race is their 409, not the exclusion constraint's error (which
  -- PostgREST 12.0 answers with 400); the constraints stay the last word. Two overlapping ranges
  -- of a mentor share an instant, hence an hour: each booking locks the mentor's hours its range
  -- (with buffer) touches, in ascending order, so bookings of other hours do not wait. Then the
  -- student, whole.
  -- (A loop of simple expressions, h counting hours since 1970: a query over generate_series
  -- would be planned again at every call.)
  for h in floor(extract(epoch from s.starts_at) / 3600)::integer
        .. floor((extract(epoch from s.blocked_until) - 1) / 3600)::integer loop
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(s.mentor_id::text || ':' || h, 0));
  end loop;
  perform pg_catalog.pg_advisory_xact_lock(2, pg_catalog.hashtext(s.student_id::text));
  if exists (select from public.sessions x
              where x.mentor_id = s.mentor_id and x.status = 'scheduled' and x.id is distinct from s.id
                and tstzrange(x.starts_at, x.blocked_until) && tstzrange(s.starts_at, s.blocked_until)) then
    perform private.refuse(409, 'that slot is taken', hint => 'Pick another slot from mentor_availability.');
  end if;
  if exists (select from public.sessions x
              where x.student_id = s.student_id and x.status = 'scheduled' and x.id is distinct from s.id
                and tstzrange(x.starts_at, x.ends_at) && tstzrange(s.starts_at, s.ends_at)) then
    perform private.refuse(409, 'you already have a session at that time');
  end if;
  if s.id is null then
    insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values (s.pack_id, s.mentor_id, s.student_id, s.starts_at, s.ends_at, s.blocked_until)
    returning * into saved;
  else
    update public.sessions
       set starts_at = s.starts_at, ends_at = s.ends_at, blocked_until = s.blocked_until,
           reschedule_count = s.reschedule_count
     where id = s.id
    returning * into saved;
  end if;
  return saved;
end
$$;
comment on function private.save_session(public.sessions) is
  'Inserts a new scheduled session, or moves an existing one; an overlap is refused with PT409.';
revoke execute on function private.save_session(public.sessions) from public, anon, authenticated;

-- Who is acting on a session: 'student', 'mentor', 'admin' or null.
create or replace function private.session_actor(s public.sessions)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when (select auth.uid()) = s.student_id then 'student'
    when (select auth.uid()) = s.mentor_id then 'mentor'
    when private.is_admin() then 'admin'
  end
$$;
comment on function private.session_actor(public.sessions) is
  'The caller''s part in a session: student, mentor, admin, or null.';
revoke execute on function private.session_actor(public.sessions) from public, anon, authenticated;

-- Loads a session for a change, locking in the global order (its pack, then the session).
create or replace function private.lock_session(session_id uuid)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pack uuid;
  s public.sessions;
begin
  if lock_session.session_id is null then
    perform private.refuse(422, 'session_id is required', details => 'session_id');
  end if;
  select x.pack_id into pack from public.sessions x where x.id = lock_session.session_id;
  if not found then
    perform private.refuse(404, format('no session with id %s', lock_session.session_id));
  end if;
  perform from public.session_packs x where x.id = pack for update;
  select * into s from public.sessions x where x.id = lock_session.session_id for update;
  return s;
end
$$;
comment on function private.lock_session(uuid) is 'Locks a session''s pack, then the session, and returns the session; 404 when unknown.';
revoke execute on function private.lock_session(uuid) from public, anon, authenticated;
