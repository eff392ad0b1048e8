-- A mentor's own Google Calendar connection and sync (their dashboard's calendar settings): the
-- grant and the sync state are private (busy.sql keeps them), so this is the mentor's one way in;
-- admins see every mentor's with calendar_sync_status (busy_api.sql).
create or replace function private.my_calendar_sync()
returns table (connected boolean, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
begin
  if me is null or not exists (select from public.mentors m where m.id = me) then
    perform private.refuse(403, 'only mentors connect a Google Calendar',
      hint => 'Sign in with a mentor account (profiles.role mentor, with a mentor profile).');
  end if;
  return query
    select g.mentor_id is not null, g.connected_at, g.revoked_at, s.last_synced_at,
           case when g.mentor_id is not null and not coalesce(s.grant_revoked, false) then s.next_sync_at end,
           coalesce(s.failures, 0), s.last_error,
           case when g.mentor_id is not null then private.calendar_closed(me, private.clock_now()) end
      from (select me as id) x
      left join private.google_credentials g on g.mentor_id = x.id
      left join private.calendar_sync_state s on s.mentor_id = x.id;
end
$$;
comment on function private.my_calendar_sync() is 'See public.my_calendar_sync.';
revoke execute on function private.my_calendar_sync() from public, anon;
grant execute on function private.my_calendar_sync() to authenticated;

create or replace function public.my_calendar_sync()
returns table (connected boolean, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.my_calendar_sync();
end
$$;
comment on function public.my_calendar_sync() is
$$Mentors: your Google Calendar connection and its sync, one row: connected (false: nothing else is set), connected and revoked (the grant stopped working: reconnect) at, the last successful sync, the next attempt, failures in a row and the last error, and why your slots are closed now (stale, never synced, revoked; null: open).
Errors: 403 PT403 you are not a mentor.$$;
revoke execute on function public.my_calendar_sync() from public, anon;
grant execute on function public.my_calendar_sync() to authenticated;
