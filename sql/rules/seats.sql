-- Seats and pack life cycle: capacity, depletion, grace, release, expiry. The functions here
-- are called by the booking RPCs and by the pg_cron jobs in jobs.sql; all are idempotent.

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
  select count(*) into used
    from public.seat_reservations s
   where s.mentor_id = new.mentor_id and s.id <> new.id
     and (s.status in ('active', 'grace') or (s.status = 'hold' and s.hold_expires_at > now_));
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

-- Jobs (scheduled in jobs.sql). Each returns how many rows it changed.

create or replace function private.expire_holds()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  seats integer;
begin
  update public.seat_reservations
     set status = 'released', released_at = now_, release_reason = 'hold_expired'
   where status = 'hold' and hold_expires_at <= now_;
  get diagnostics seats = row_count;
  update public.orders set status = 'expired' where status = 'pending' and expires_at <= now_;
  return seats;
end
$$;
comment on function private.expire_holds() is 'Releases checkout holds and expires pending orders whose time ran out.';
revoke execute on function private.expire_holds() from public, anon, authenticated;

create or replace function private.expire_packs()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.session_packs;
  n integer := 0;
begin
  for p in
    select * from public.session_packs sp
     where sp.status in ('active', 'depleted') and sp.expires_at <= now_
     order by sp.id
       for update skip locked
  loop
    if p.remaining_sessions > 0 then
      insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason)
      values (p.id, p.mentor_id, p.student_id, 'pack_expired', -p.remaining_sessions, 'pack expired');
    end if;
    update public.session_packs set status = 'expired', expired_at = now_ where id = p.id;
    perform private.refresh_seat(p.seat_reservation_id);
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.expire_packs() is
  'Expires packs past expires_at: forfeits their remaining credits through the ledger; their seat goes into grace.';
revoke execute on function private.expire_packs() from public, anon, authenticated;

create or replace function private.start_grace()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  id_ uuid;
  n integer := 0;
begin
  -- used up packs the RPCs did not settle (e.g. a session marked by a worker)
  for id_ in
    select sp.id from public.session_packs sp
     where sp.status = 'active' and sp.remaining_sessions = 0
       and not exists (select from public.sessions s where s.pack_id = sp.id and s.status = 'scheduled')
  loop
    perform private.refresh_pack(id_);
    n := n + 1;
  end loop;
  -- active seats without an active pack
  for id_ in
    select s.id from public.seat_reservations s
     where s.status = 'active'
       and not exists (select from public.session_packs sp where sp.seat_reservation_id = s.id and sp.status = 'active')
  loop
    perform private.refresh_seat(id_);
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.start_grace() is
  'Settles packs that are used up and puts seats without an active pack into grace.';
revoke execute on function private.start_grace() from public, anon, authenticated;

create or replace function private.queue_grace_warnings()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  warning interval := (select make_interval(hours => ps.grace_warning_hours) from public.platform_settings ps);
  seat public.seat_reservations;
  n integer := 0;
begin
  for seat in
    select * from public.seat_reservations s
     where s.status = 'grace' and s.grace_ends_at - warning <= now_ and s.grace_ends_at > now_
  loop
    n := n + private.notify(array[seat.student_id], 'grace_warning',
                            format('seat:%s:grace:%s:warning', seat.id, extract(epoch from seat.grace_started_at)),
                            jsonb_build_object('seat_id', seat.id, 'mentor_id', seat.mentor_id,
                                               'grace_ends_at', seat.grace_ends_at));
  end loop;
  return n;
end
$$;
comment on function private.queue_grace_warnings() is
  'Queues the warning for seats whose grace ends within platform_settings.grace_warning_hours.';
revoke execute on function private.queue_grace_warnings() from public, anon, authenticated;

create or replace function private.release_expired_seats()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  seat public.seat_reservations;
  n integer := 0;
begin
  for seat in
    select * from public.seat_reservations s
     where s.status = 'grace' and s.grace_ends_at <= now_
     order by s.id
       for update skip locked
  loop
    -- a pack bought meanwhile keeps the seat
    if private.refresh_seat(seat.id) = 'active' then
      continue;
    end if;
    update public.seat_reservations
       set status = 'released', released_at = now_, release_reason = 'grace_ended'
     where id = seat.id;
    perform private.void_grace_warnings(seat);
    perform private.notify(array[seat.student_id, seat.mentor_id], 'seat_released', format('seat:%s:released', seat.id),
                           jsonb_build_object('seat_id', seat.id, 'mentor_id', seat.mentor_id,
                                              'student_id', seat.student_id));
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.release_expired_seats() is
  'Releases seats whose grace ended without a new pack; tells the student and the mentor.';
revoke execute on function private.release_expired_seats() from public, anon, authenticated;

create or replace function private.prune_cron_history()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n integer;
begin
  delete from cron.job_run_details where end_time < pg_catalog.now() - interval '7 days';
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function private.prune_cron_history() is 'Keeps a week of pg_cron run history.';
revoke execute on function private.prune_cron_history() from public, anon, authenticated;

create or replace function private.run_due_jobs()
returns jsonb
language sql
volatile
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'expire_holds', private.expire_holds(),
    'expire_packs', private.expire_packs(),
    'start_grace', private.start_grace(),
    'queue_grace_warnings', private.queue_grace_warnings(),
    'release_expired_seats', private.release_expired_seats())
$$;
comment on function private.run_due_jobs() is 'Runs every time-driven rule once, in order (what the cron jobs do each minute).';
revoke execute on function private.run_due_jobs() from public, anon, authenticated;
