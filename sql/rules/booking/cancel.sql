-- Booking: canceling a scheduled session (cancel_session).

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
