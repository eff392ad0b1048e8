-- Booking: moving a scheduled session to another slot (reschedule_session).

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
