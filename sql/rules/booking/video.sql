-- Booking: who may join a session's video call, and when (video_session_access).

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
