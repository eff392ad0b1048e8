-- Booking rules: availability, book, cancel, reschedule, complete, no-show, admin adjustment,
-- video access. Clients call the public functions (POST /rest/v1/rpc/NAME); each is a thin
-- security-invoker wrapper over a security-definer function here in private, which checks who
-- the caller is and every rule. Errors: PT403 not yours, PT404 unknown, PT409 conflict,
-- PT422 invalid input (PostgREST answers with that HTTP status and the message).
-- Lock order everywhere: pack, then session, then seat, then mentor.

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
revoke execute on function private.slot_fits(public.mentors, timestamptz) from public;
grant execute on function private.slot_fits(public.mentors, timestamptz) to anon, authenticated, service_role;


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
  'Raises PT422/PT409 when starts_at is not a bookable slot for the pack (past, off grid, outside hours, notice, horizon, pack expiry, calendar busy).';
revoke execute on function private.check_slot(public.mentors, public.session_packs, timestamptz, timestamptz)
  from public, anon, authenticated;

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

create or replace function private.book_session(pack_id uuid, starts_at timestamptz)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
  now_ timestamptz := private.clock_now();
  found_pack record;
  p public.session_packs;
  m public.mentors;
  s public.sessions;
begin
  if book_session.pack_id is null or book_session.starts_at is null then
    perform private.refuse(422, 'pack_id and starts_at are required', details => 'pack_id');
  end if;
  -- the pack (locked), its seat's status and its mentor in one statement
  select x as pack, st.status as seat_status, mm as mentor into found_pack
    from public.session_packs x
    join public.seat_reservations st on st.id = x.seat_reservation_id
    join public.mentors mm on mm.id = x.mentor_id
   where x.id = book_session.pack_id
     for update of x;
  if not found then
    perform private.refuse(404, format('no pack with id %s', book_session.pack_id));
  end if;
  p := found_pack.pack;
  m := found_pack.mentor;
  if uid is null or p.student_id <> uid then
    perform private.refuse(403, 'this pack is not yours');
  end if;
  if p.status <> 'active' then
    perform private.refuse(409, format('this pack is %s', p.status));
  end if;
  if p.expires_at <= now_ then
    perform private.refuse(409, format('this pack expired at %s', p.expires_at));
  end if;
  if p.remaining_sessions <= 0 then
    perform private.refuse(409, 'no sessions left on this pack', hint => 'Buy a new pack to book more sessions.');
  end if;
  if found_pack.seat_status <> 'active' then
    perform private.refuse(409, format('your seat with this mentor is not active (%s)', found_pack.seat_status));
  end if;
  perform private.check_slot(m, p, book_session.starts_at, now_);
  s.pack_id := p.id;
  s.mentor_id := p.mentor_id;
  s.student_id := p.student_id;
  s.starts_at := book_session.starts_at;
  s.ends_at := book_session.starts_at + make_interval(mins => m.slot_minutes);
  s.blocked_until := s.ends_at + make_interval(mins => m.buffer_minutes);
  s := private.save_session(s);
  insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta, actor_id)
  values (p.id, p.mentor_id, p.student_id, s.id, 'session_booked', -1, uid);
  perform private.queue_session_messages(s, private.session_payload(s), 'session_booked',
                                         format('session:%s:booked', s.id));
  insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'upsert');
  return s;
end
$$;
comment on function private.book_session(uuid, timestamptz) is 'See public.book_session.';
revoke execute on function private.book_session(uuid, timestamptz) from public, anon;
grant execute on function private.book_session(uuid, timestamptz) to authenticated;


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

create or replace function private.cancel_session(session_id uuid, reason text)
returns public.session_change
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  s public.sessions;
  p public.session_packs;
  actor text;
  restored boolean;
begin
  s := private.lock_session(cancel_session.session_id);
  select * into p from public.session_packs x where x.id = s.pack_id;
  actor := private.session_actor(s);
  if actor is null then
    perform private.refuse(403, 'this session is not yours');
  end if;
  if s.status <> 'scheduled' then
    perform private.refuse(409, format('the session is already %s', replace(s.status::text, '_', ' ')));
  end if;
  if s.starts_at <= now_ then
    perform private.refuse(409, 'the session has started; mark it completed or as a no-show instead');
  end if;
  if length(reason) > 1000 then
    perform private.refuse(422, 'reason is longer than 1000 characters', details => 'reason');
  end if;
  restored := actor <> 'student' or s.starts_at - now_ >= make_interval(hours => p.cancel_notice_hours);
  update public.sessions
     set status = case when restored then 'canceled' else 'late_canceled' end::public.session_status,
         canceled_at = now_, canceled_by = (select auth.uid()), cancel_reason = nullif(btrim(reason), '')
   where id = s.id
   returning * into s;
  if restored then
    insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta, actor_id)
    values (p.id, p.mentor_id, p.student_id, s.id, 'session_canceled', 1, (select auth.uid()));
  end if;
  perform private.void_reminders(s.id);
  perform private.notify(array[s.student_id, s.mentor_id], 'session_canceled', format('session:%s:canceled', s.id),
                         private.session_payload(s) || jsonb_build_object('canceled_by', actor,
                                                                          'credit_restored', restored),
                         null, s.id);
  insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'delete');
  perform private.refresh_pack(p.id);
  return row(s, restored)::public.session_change;
end
$$;
comment on function private.cancel_session(uuid, text) is 'See public.cancel_session.';
revoke execute on function private.cancel_session(uuid, text) from public, anon;
grant execute on function private.cancel_session(uuid, text) to authenticated;


create or replace function private.reschedule_session(session_id uuid, starts_at timestamptz)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  s public.sessions;
  p public.session_packs;
  m public.mentors;
  actor text;
begin
  if reschedule_session.starts_at is null then
    perform private.refuse(422, 'starts_at is required', details => 'starts_at');
  end if;
  s := private.lock_session(reschedule_session.session_id);
  select * into p from public.session_packs x where x.id = s.pack_id;
  actor := private.session_actor(s);
  if actor is null then
    perform private.refuse(403, 'this session is not yours');
  end if;
  if s.status <> 'scheduled' then
    perform private.refuse(409, format('the session is already %s', replace(s.status::text, '_', ' ')));
  end if;
  if actor = 'student' and s.starts_at - now_ < make_interval(hours => p.cancel_notice_hours) then
    perform private.refuse(409, format('too late to reschedule: less than %s hours before the start', p.cancel_notice_hours));
  end if;
  if s.starts_at <= now_ then
    perform private.refuse(409, 'the session has started');
  end if;
  if reschedule_session.starts_at = s.starts_at then
    perform private.refuse(422, format('the session already starts at %s', s.starts_at), details => 'starts_at');
  end if;
  select * into m from public.mentors x where x.id = s.mentor_id;
  perform private.check_slot(m, p, reschedule_session.starts_at, now_);
  s.starts_at := reschedule_session.starts_at;
  s.ends_at := reschedule_session.starts_at + make_interval(mins => m.slot_minutes);
  s.blocked_until := s.ends_at + make_interval(mins => m.buffer_minutes);
  s.reschedule_count := s.reschedule_count + 1;
  s := private.save_session(s);
  perform private.void_reminders(s.id);
  perform private.queue_session_messages(s, private.session_payload(s), 'session_rescheduled',
                                         format('session:%s:v%s:rescheduled', s.id, s.reschedule_count));
  insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'upsert');
  return s;
end
$$;
comment on function private.reschedule_session(uuid, timestamptz) is 'See public.reschedule_session.';
revoke execute on function private.reschedule_session(uuid, timestamptz) from public, anon;
grant execute on function private.reschedule_session(uuid, timestamptz) to authenticated;


-- After a session was used (completed or a student no-show): the renewal reminder when one
-- session is left to happen, then settle the pack.
create or replace function private.after_session_used(p public.session_packs)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  still_to_happen integer;
begin
  select p.remaining_sessions + count(*) into still_to_happen
    from public.sessions s where s.pack_id = p.id and s.status = 'scheduled';
  if still_to_happen = 1 then
    perform private.notify(array[p.student_id], 'renewal_reminder', format('pack:%s:renewal_reminder', p.id),
                           jsonb_build_object('pack_id', p.id, 'mentor_id', p.mentor_id,
                                              'product_id', p.product_id),
                           null, null, p.id);
  end if;
  perform private.refresh_pack(p.id);
end
$$;
comment on function private.after_session_used(public.session_packs) is
  'Queues the renewal reminder after the pack''s second-to-last session, then settles the pack.';
revoke execute on function private.after_session_used(public.session_packs) from public, anon, authenticated;

create or replace function private.close_session(session_id uuid, outcome public.session_status, notes text,
                                                 recording_url text)
returns public.session_change
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  s public.sessions;
  p public.session_packs;
  actor text;
  restored boolean := outcome = 'mentor_no_show';
begin
  s := private.lock_session(close_session.session_id);
  select * into p from public.session_packs x where x.id = s.pack_id;
  actor := private.session_actor(s);
  if actor is null or actor = 'student' then
    perform private.refuse(403, 'only the session''s mentor or an admin can do that');
  end if;
  if s.status <> 'scheduled' then
    perform private.refuse(409, format('the session is already %s', replace(s.status::text, '_', ' ')));
  end if;
  if now_ < s.starts_at then
    perform private.refuse(409, format('the session has not started yet (it starts at %s)', s.starts_at));
  end if;
  if recording_url is not null and recording_url !~ '^https://' then
    perform private.refuse(422, 'recording_url must be an https:// URL', details => 'recording_url');
  end if;
  if length(notes) > 10000 then
    perform private.refuse(422, 'notes are longer than 10000 characters', details => 'notes');
  end if;
  update public.sessions
     set status = outcome,
         completed_at = case when outcome = 'completed' then now_ end,
         notes = coalesce(close_session.notes, sessions.notes),
         recording_url = coalesce(close_session.recording_url, sessions.recording_url)
   where id = s.id
   returning * into s;
  perform private.void_reminders(s.id);
  if restored then
    restored := p.status in ('active', 'depleted') and p.expires_at > now_;
  end if;
  if restored then
    insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta, actor_id)
    values (p.id, p.mentor_id, p.student_id, s.id, 'mentor_no_show', 1, (select auth.uid()));
    perform private.refresh_pack(p.id);
  elsif outcome <> 'mentor_no_show' then
    select * into p from public.session_packs x where x.id = p.id;
    perform private.after_session_used(p);
  else
    perform private.refresh_pack(p.id);
  end if;
  return row(s, restored)::public.session_change;
end
$$;
comment on function private.close_session(uuid, public.session_status, text, text) is
  'Completes a session or marks a no-show (after its start, mentor or admin only).';
revoke execute on function private.close_session(uuid, public.session_status, text, text) from public, anon;
grant execute on function private.close_session(uuid, public.session_status, text, text) to authenticated;



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


create or replace function private.video_session_access(session_id uuid)
returns public.video_access
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  s public.sessions;
  opens_at timestamptz;
  closes_at timestamptz;
  role_ text;
begin
  select * into s from public.sessions x where x.id = video_session_access.session_id;
  if not found then
    perform private.refuse(404, format('no session with id %s', video_session_access.session_id));
  end if;
  role_ := case (select auth.uid()) when s.student_id then 'student' when s.mentor_id then 'mentor' end;
  if role_ is null then
    perform private.refuse(403, 'only the session''s student and mentor can join its call');
  end if;
  if s.status <> 'scheduled' then
    perform private.refuse(409, format('the session is %s', replace(s.status::text, '_', ' ')));
  end if;
  select s.starts_at - make_interval(mins => ps.video_join_early_minutes),
         s.ends_at + make_interval(mins => ps.video_join_late_minutes)
    into opens_at, closes_at
    from public.platform_settings ps;
  if now_ < opens_at then
    perform private.refuse(409, format('the call opens at %s', opens_at));
  end if;
  if now_ >= closes_at then
    perform private.refuse(409, format('the call closed at %s', closes_at));
  end if;
  return row(s.id, s.video_channel, role_, s.starts_at, s.ends_at, closes_at)::public.video_access;
end
$$;
comment on function private.video_session_access(uuid) is 'See public.video_session_access.';
revoke execute on function private.video_session_access(uuid) from public, anon;
grant execute on function private.video_session_access(uuid) to authenticated;

