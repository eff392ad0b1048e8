-- Booking: canceling a scheduled session (cancel_session), and asking first what it would do
-- (cancel_terms). Both go through private.cancel_check: one rule for the cancel and for the page
-- that tells the student, before they confirm, whether the credit comes back.

-- The refusals of a cancel by the caller at now_, and whether the credit would come back: a
-- student's at least the pack's cancel notice ahead; a mentor's or an admin's always.
create or replace function private.cancel_check(s public.sessions, now_ timestamptz)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  actor text := private.session_actor(s);
  notice integer;
begin
  if actor is null then
    perform private.refuse(403, 'this session is not yours');
  end if;
  if s.status <> 'scheduled' then
    perform private.refuse(409, format('the session is already %s', replace(s.status::text, '_', ' ')));
  end if;
  if s.starts_at <= now_ then
    perform private.refuse(409, 'the session has started; mark it completed or as a no-show instead');
  end if;
  select p.cancel_notice_hours into notice from public.session_packs p where p.id = s.pack_id;
  return actor <> 'student' or s.starts_at - now_ >= make_interval(hours => notice);
end
$$;
comment on function private.cancel_check(public.sessions, timestamptz) is
  'Refuses a cancel the caller may not make now (403 not theirs, 409 not scheduled or started); else whether the credit would come back.';
revoke execute on function private.cancel_check(public.sessions, timestamptz) from public, anon, authenticated;

create or replace function private.cancel_terms(session_id uuid)
returns table (credit_restored boolean, cancel_notice_hours integer, credit_back_until timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  s public.sessions;
  notice integer;
begin
  select * into s from public.sessions x where x.id = cancel_terms.session_id;
  if s.id is null then
    perform private.refuse(404, format('no session with id %s', cancel_terms.session_id), details => 'session_id');
  end if;
  select p.cancel_notice_hours into notice from public.session_packs p where p.id = s.pack_id;
  return query select private.cancel_check(s, private.clock_now()), notice,
    case when private.session_actor(s) = 'student' then s.starts_at - make_interval(hours => notice) end;
end
$$;
comment on function private.cancel_terms(uuid) is 'See public.cancel_terms.';
revoke execute on function private.cancel_terms(uuid) from public, anon;
grant execute on function private.cancel_terms(uuid) to authenticated;

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
  restored := private.cancel_check(s, now_);
  if length(reason) > 1000 then
    perform private.refuse(422, 'reason is longer than 1000 characters', details => 'reason');
  end if;
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
