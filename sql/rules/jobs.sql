-- Time-driven rules: each job function, then its pg_cron schedule (UTC). Each job calls exactly
-- one idempotent function and returns how many rows it changed. cron.schedule with an existing
-- name updates that job, so this file is re-runnable. run_due_jobs runs them all once (tests).

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
select cron.schedule('expire-seat-holds', '* * * * *', $$select private.expire_holds()$$);

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
select cron.schedule('expire-packs', '* * * * *', $$select private.expire_packs()$$);

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
select cron.schedule('start-grace', '* * * * *', $$select private.start_grace()$$);

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
select cron.schedule('queue-grace-warnings', '* * * * *', $$select private.queue_grace_warnings()$$);

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
select cron.schedule('release-expired-seats', '* * * * *', $$select private.release_expired_seats()$$);

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
select cron.schedule('prune-cron-history', '17 3 * * *', $$select private.prune_cron_history()$$);

-- Error reports (sql/rules/error_reports.sql): 30 days, and never more than the newest 100000.
create or replace function private.prune_error_reports()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  old integer;
  over integer;
begin
  delete from private.error_reports e where e.created_at < private.clock_now() - interval '30 days';
  get diagnostics old = row_count;
  delete from private.error_reports e
   where e.id < (select x.id from private.error_reports x order by x.id desc offset 99999 limit 1);
  get diagnostics over = row_count;
  return old + over;
end
$$;
comment on function private.prune_error_reports() is
  'Deletes error reports older than 30 days, and all but the newest 100000.';
revoke execute on function private.prune_error_reports() from public, anon, authenticated;
select cron.schedule('prune-error-reports', '23 * * * *', $$select private.prune_error_reports()$$);

-- Calendar jobs are a work queue, not a history (what happened to a session is in its row, its
-- event in private.calendar_events, its changes in the audit log): a job applied or skipped goes
-- after 7 days, one given up after 30 (ops_health counts those), a pending one never.
create or replace function private.prune_calendar_jobs()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  gone integer;
begin
  delete from private.calendar_jobs j
   where j.processed_at is not null
     and j.processed_at < private.clock_now()
                          - case when j.outcome = 'gave_up' then interval '30 days' else interval '7 days' end;
  get diagnostics gone = row_count;
  return gone;
end
$$;
comment on function private.prune_calendar_jobs() is
  'Deletes calendar jobs processed more than 7 days ago (given up: 30 days); pending ones stay.';
revoke execute on function private.prune_calendar_jobs() from public, anon, authenticated;
select cron.schedule('prune-calendar-jobs', '41 * * * *', $$select private.prune_calendar_jobs()$$);

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
