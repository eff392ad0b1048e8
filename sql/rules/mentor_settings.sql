-- A mentor's booking settings, which the mentor writes directly (sql/rls/mentors.sql grants the
-- columns): how long a session is, the grid it starts on, the break after it, how far ahead it
-- must and may be booked. Each is read by the next booking (slots.sql, availability.sql), never
-- by a session already booked (its times and blocked_until are its own). Checked here before the
-- check constraints, as input_checks.sql checks the other columns a client may write: a value out
-- of range is a 422 naming the column and the accepted range.
create or replace function private.tg_mentors__check_booking_settings()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  ins constant boolean := tg_op = 'INSERT';
begin
  if ins or new.slot_minutes is distinct from old.slot_minutes then
    perform private.check_whole_number(new.slot_minutes, 'slot_minutes', 15, 240);
  end if;
  if ins or new.slot_grid_minutes is distinct from old.slot_grid_minutes then
    perform private.check_whole_number(new.slot_grid_minutes, 'slot_grid_minutes', 5, 240);
  end if;
  if ins or new.buffer_minutes is distinct from old.buffer_minutes then
    perform private.check_whole_number(new.buffer_minutes, 'buffer_minutes', 0, 120);
  end if;
  if ins or new.min_notice_minutes is distinct from old.min_notice_minutes then
    perform private.check_whole_number(new.min_notice_minutes, 'min_notice_minutes', 0, 20160);
  end if;
  if ins or new.booking_horizon_days is distinct from old.booking_horizon_days then
    perform private.check_whole_number(new.booking_horizon_days, 'booking_horizon_days', 1, 365);
  end if;
  return new;
end
$$;
comment on function private.tg_mentors__check_booking_settings() is
  'Refuses (422 naming the column) a slot length, grid, buffer, notice or horizon out of its range.';
revoke execute on function private.tg_mentors__check_booking_settings() from public, anon;

drop trigger if exists _051_check_booking_settings on public.mentors;
create trigger _051_check_booking_settings
  before insert or update of slot_minutes, slot_grid_minutes, buffer_minutes, min_notice_minutes,
    booking_horizon_days
  on public.mentors
  for each row execute function private.tg_mentors__check_booking_settings();
