-- Booking: closing a session after its start, completed or no-show (close_session).

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
