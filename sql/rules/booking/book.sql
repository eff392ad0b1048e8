-- Booking: a student books a session of one of their packs (book_session).

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
