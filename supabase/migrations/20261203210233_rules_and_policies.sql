-- Bundled by `mentorships db bundle` from sql/rules/ and sql/rls/. Do not edit:
-- change the source files and bundle again. The whole desired state: it drops every policy
-- first (sql/rls/_reset.sql), so it supersedes the bundles before it.
set check_function_bodies = off;

-- >>> sql/rls/_reset.sql
-- Applied first: drops every policy on the public tables, so that the files beside this one are
-- the whole desired state (a policy removed from a file is removed from the database).
do $$
declare
  p record;
begin
  for p in select schemaname, tablename, policyname from pg_catalog.pg_policies where schemaname = 'public' loop
    execute format('drop policy %I on %I.%I', p.policyname, p.schemaname, p.tablename);
  end loop;
end
$$;

-- >>> sql/rules/admin_reads.sql
-- What the admins' dashboard reads that no table gives in one request: the instructors with their
-- live figures, page by page, and the relationships (a mentor and a student who had a pack) of one
-- mentor or of everyone. Live data (not the reports, which are as old as their last build); only
-- admins (the functions check the caller, then read as their owner).

-- The instructors matching `search` (name, slug or email; case-insensitive, part of a word),
-- ordered by name, one page: the mentors are filtered, counted and cut to the page first, then
-- each of the page's mentors gets its figures from its own rows (the indexes on mentor_id of
-- sessions, packs and seats), so a page costs the same at 1M sessions as at 1,000.
create or replace function private.admin_instructors(search text, skip_rows integer, max_rows integer)
returns table (
  mentor_id uuid, mentor_name text, slug text, email text, time_zone text,
  is_active boolean, accepting_students boolean,
  seat_capacity integer, seats_taken integer, free_seats integer,
  active_mentees integer, upcoming_sessions integer, sessions_remaining integer,
  sessions_completed integer, last_session_at timestamptz, joined_at timestamptz,
  total_count integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  pattern text;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may list the instructors');
  end if;
  if search is not null and btrim(search) <> '' then
    pattern := '%' || replace(replace(replace(btrim(search), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;
  return query
  with matched as (
    select m.id, m.public_name, m.slug, pr.email, m.time_zone, m.is_active, m.accepting_students,
           m.seat_capacity, m.created_at, (count(*) over ())::integer as total
      from public.mentors m
      join public.profiles pr on pr.id = m.id
     where pattern is null
        or m.public_name ilike pattern
        or m.slug ilike pattern
        or pr.email ilike pattern
     order by m.public_name, m.id
    offset skip_rows limit max_rows
  )
  select x.id, x.public_name, x.slug, x.email, x.time_zone, x.is_active, x.accepting_students,
         x.seat_capacity, taken.n, greatest(0, x.seat_capacity - taken.n),
         mentees.n, upcoming.n, remaining.n, held.completed, held.last_at, x.created_at, x.total
    from matched x
    cross join lateral (select private.seats_taken(x.id, now_) as n) taken
    cross join lateral (
      select count(*)::integer as n from (
        select s.student_id from public.seat_reservations s
         where s.mentor_id = x.id and s.status in ('active', 'grace')
        union
        select p.student_id from public.session_packs p
         where p.mentor_id = x.id and p.status = 'active' and p.expires_at > now_) who) mentees
    cross join lateral (
      select count(*)::integer as n from public.sessions s
       where s.mentor_id = x.id and s.starts_at > now_ and s.status = 'scheduled') upcoming
    cross join lateral (
      select coalesce(sum(p.remaining_sessions), 0)::integer as n from public.session_packs p
       where p.mentor_id = x.id and p.status = 'active' and p.expires_at > now_) remaining
    cross join lateral (
      select count(*) filter (where s.status = 'completed')::integer as completed,
             max(s.starts_at) filter (where s.status in ('completed', 'student_no_show', 'mentor_no_show')) as last_at
        from public.sessions s where s.mentor_id = x.id) held
   order by x.public_name, x.id;
end
$$;
comment on function private.admin_instructors(text, integer, integer) is 'See public.admin_instructors.';
revoke execute on function private.admin_instructors(text, integer, integer) from public, anon;
grant execute on function private.admin_instructors(text, integer, integer) to authenticated;

create or replace function public.admin_instructors(search text default null, skip_rows text default null,
                                                    max_rows text default null)
returns table (
  mentor_id uuid, mentor_name text, slug text, email text, time_zone text,
  is_active boolean, accepting_students boolean,
  seat_capacity integer, seats_taken integer, free_seats integer,
  active_mentees integer, upcoming_sessions integer, sessions_remaining integer,
  sessions_completed integer, last_session_at timestamptz, joined_at timestamptz,
  total_count integer)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.admin_instructors(
    private.text_arg(search, 'search', 200),
    private.integer_arg(coalesce(skip_rows, '0'), 'skip_rows', 0, 1000000),
    private.integer_arg(coalesce(max_rows, '25'), 'max_rows', 1, 200));
end
$$;
comment on function public.admin_instructors(text, text, text) is
$$Admins: the instructors (every mentor, listed or not) ordered by name, one page, each with its live figures: seat_capacity, seats_taken (active, grace and live holds) and free_seats, active_mentees (an active seat or grace, or a live pack), upcoming_sessions (scheduled, not started), sessions_remaining (on live packs), sessions_completed, last_session_at (the last held: completed or a no-show), joined_at; total_count is how many mentors match the search (the same on every row).
Arguments: search (optional text, at most 200 characters: part of the name, slug or email, any case), skip_rows (optional whole number 0 to 1000000, default 0), max_rows (optional 1 to 200, default 25).
Errors: 403 PT403 not an admin; 422 PT422 a malformed argument (details names it).$$;
revoke execute on function public.admin_instructors(text, text, text) from public, anon;
grant execute on function public.admin_instructors(text, text, text) to authenticated;

-- The relationships of one mentor (the admins' "expand a mentor") or of everyone (the admins'
-- CSV export), with both people's emails, as one JSON array: one request however many there are
-- (a set would be cut at PostgREST's db-max-rows, and paging it would aggregate everything again
-- for every page).
create or replace function private.admin_relationships(for_mentor_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  answer jsonb;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may read every relationship');
  end if;
  if for_mentor_id is not null and not exists (select from public.mentors m where m.id = for_mentor_id) then
    perform private.refuse(404, 'no mentor with that mentor_id', 'Send mentor_id as the UUID of a mentor.', 'mentor_id');
  end if;
  select coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object('mentor_email', mp.email, 'student_email', sp.email)
                            order by r.mentor_name, r.mentor_id, r.next_session_at nulls last, r.student_name, r.student_id),
                  '[]'::jsonb)
    into answer
    from private.relationships(case when for_mentor_id is null then 'all' else 'mentor_id' end, for_mentor_id) r
    join public.profiles mp on mp.id = r.mentor_id
    join public.profiles sp on sp.id = r.student_id;
  return answer;
end
$$;
comment on function private.admin_relationships(uuid) is 'See public.admin_relationships.';
revoke execute on function private.admin_relationships(uuid) from public, anon;
grant execute on function private.admin_relationships(uuid) to authenticated;

create or replace function public.admin_relationships(mentor_id text default null)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.admin_relationships(private.uuid_arg(mentor_id, 'mentor_id', false));
end
$$;
comment on function public.admin_relationships(text) is
$$Admins: the relationships (a mentor and a student who ever had a pack together) of one mentor, or of every mentor without mentor_id, live, as a JSON array ordered by mentor, then next session: the columns of my_mentees (sessions_remaining on live packs, sessions_total, sessions_completed, last_session_at, next_session_at, the latest pack's status and expiry, seat_status, ...) and mentor_email, student_email.
Arguments: mentor_id (optional UUID).
Errors: 403 PT403 not an admin; 404 PT404 no mentor with that id; 422 PT422 a malformed mentor_id.$$;
revoke execute on function public.admin_relationships(text) from public, anon;
grant execute on function public.admin_relationships(text) to authenticated;

-- >>> sql/rules/api.sql
-- The RPCs clients call (POST /rest/v1/rpc/<name>, JSON keys = parameter names).
--
-- Each reads its arguments, then makes one call to the security-definer function in private
-- that checks who the caller is and every rule. Arguments arrive as text and are read by
-- private.*_arg (sql/rules/errors.sql): a bad value is a 422 that names the field and the
-- accepted form, whatever was sent (a cast error in PostgREST would name neither). Every
-- parameter has a default, so a missing key is that same 422, not a 404 for an unknown function.
-- The comments are the API's documentation (PostgREST serves them in its OpenAPI output) and
-- list every refusal; the README's error catalogue is the same list.

-- The typed signatures these replace (an overload would make PostgREST's choice ambiguous).
drop function if exists public.mentor_availability(uuid, timestamptz, timestamptz);
drop function if exists public.book_session(uuid, timestamptz);
drop function if exists public.cancel_session(uuid, text);
drop function if exists public.reschedule_session(uuid, timestamptz);
drop function if exists public.complete_session(uuid, text, text);
drop function if exists public.mark_no_show(uuid, text);
drop function if exists public.adjust_pack_sessions(uuid, integer, text);
drop function if exists public.video_session_access(uuid);
drop function if exists public.create_order(uuid, text, text);
drop function if exists public.attach_order_checkout(uuid, text);
drop function if exists public.order_for_capture(uuid);
drop function if exists public.record_payment_event(text, text, text, jsonb);

-- plpgsql, not SQL: a SQL wrapper that is not inlined is planned again on every call.

create or replace function public.mentor_availability(mentor_id text default null, from_at text default null,
                                                      to_at text default null)
returns table (starts_at timestamptz, ends_at timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.mentor_availability(
    private.uuid_arg(mentor_id, 'mentor_id'),
    private.timestamptz_arg(from_at, 'from_at'),
    private.timestamptz_arg(to_at, 'to_at'));
end
$$;
comment on function public.mentor_availability(text, text, text) is
$$Bookable slots of a mentor starting in [from_at, to_at): working hours in the mentor's zone on the mentor's grid, at least the minimum notice ahead, within the booking horizon, clear of scheduled sessions (plus buffer) and calendar busy times. None while the mentor's Google Calendar sync is stale, never done or revoked (fail closed). Anyone may call it.
Arguments: mentor_id (UUID), from_at and to_at (ISO 8601 with offset, e.g. 2026-12-03T09:00:00Z), at most 35 days apart.
Errors: 404 PT404 no active mentor with that id; 422 PT422 a missing or malformed argument (details names it), to_at not after from_at, more than 35 days.$$;
revoke execute on function public.mentor_availability(text, text, text) from public;
grant execute on function public.mentor_availability(text, text, text) to anon, authenticated, service_role;

create or replace function public.book_session(pack_id text default null, starts_at text default null)
returns public.sessions
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.book_session(private.uuid_arg(pack_id, 'pack_id'), private.timestamptz_arg(starts_at, 'starts_at'));
end
$$;
comment on function public.book_session(text, text) is
$$Books a session from your pack at starts_at (a slot from mentor_availability). The pack must be yours, active, unexpired, with credits left and its seat active; the slot on the mentor's grid inside working hours, at least the minimum notice ahead, ending before the pack expires, clear of the mentor's sessions (plus buffer), your other sessions and the mentor's calendar. Uses one credit; queues the calendar event, the confirmation and the 24 h and 1 h reminders.
Arguments: pack_id (UUID), starts_at (ISO 8601 with offset).
Errors: 403 PT403 not your pack; 404 PT404 no such pack; 409 PT409 pack not active, expired, no sessions left, seat not active, slot taken, you have another session then, mentor busy (calendar), the mentor's Google Calendar sync stale or revoked (the message says since when); 422 PT422 missing or malformed argument, in the past, off the grid, outside working hours, too soon (notice), too far ahead (horizon), ends after the pack expires (details: starts_at).$$;
revoke execute on function public.book_session(text, text) from public, anon;
grant execute on function public.book_session(text, text) to authenticated;

create or replace function public.cancel_session(session_id text default null, reason text default null)
returns public.session_change
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.cancel_session(private.uuid_arg(session_id, 'session_id'), private.text_arg(reason, 'reason', 1000));
end
$$;
comment on function public.cancel_session(text, text) is
$$Cancels a scheduled session before it starts. The student gets the credit back when canceling at least the pack's cancel notice (24 h) ahead, else it is a late cancel and the credit is forfeited; a mentor or admin cancel always gives it back. Voids the reminders, tells both, removes the calendar event. Returns the session and credit_restored.
Arguments: session_id (UUID), reason (optional text, at most 1000 characters).
Errors: 403 PT403 not your session; 404 PT404 no such session; 409 PT409 already canceled/completed/no-show, already started; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.cancel_session(text, text) from public, anon;
grant execute on function public.cancel_session(text, text) to authenticated;

create or replace function public.cancel_terms(session_id text default null)
returns table (credit_restored boolean, cancel_notice_hours integer, credit_back_until timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.cancel_terms(private.uuid_arg(cancel_terms.session_id, 'session_id'));
end
$$;
comment on function public.cancel_terms(text) is
$$What cancel_session would do if you canceled now, before you confirm: whether the credit comes back (a student at least the pack's cancel notice ahead; a mentor or an admin always), the notice in hours and, for the student, the instant until which a cancel gives it back. The same rule and refusals as cancel_session.
Arguments: session_id (UUID).
Errors: 403 PT403 not your session; 404 PT404 no such session; 409 PT409 already canceled/completed/no-show, already started; 422 PT422 missing or malformed session_id.$$;
revoke execute on function public.cancel_terms(text) from public, anon;
grant execute on function public.cancel_terms(text) to authenticated;

create or replace function public.reschedule_session(session_id text default null, starts_at text default null)
returns public.sessions
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.reschedule_session(private.uuid_arg(session_id, 'session_id'),
                                    private.timestamptz_arg(starts_at, 'starts_at'));
end
$$;
comment on function public.reschedule_session(text, text) is
$$Moves a scheduled session to another valid slot (same rules as book_session), with no credit change. A student must do it at least the pack's cancel notice (24 h) before the original start; the mentor or an admin any time before it. The reminders and the calendar event move with it.
Arguments: session_id (UUID), starts_at (ISO 8601 with offset).
Errors: 403 PT403 not your session; 404 PT404 no such session; 409 PT409 not scheduled, too late to reschedule, already started, slot taken, mentor busy, the mentor's Google Calendar sync stale or revoked; 422 PT422 missing or malformed argument, same start, or a slot book_session would refuse (details: starts_at).$$;
revoke execute on function public.reschedule_session(text, text) from public, anon;
grant execute on function public.reschedule_session(text, text) to authenticated;

create or replace function public.complete_session(session_id text default null, notes text default null,
                                                   recording_url text default null)
returns public.sessions
language plpgsql
volatile
set search_path = ''
as $$
begin
  return (private.close_session(private.uuid_arg(session_id, 'session_id'), 'completed',
                                private.text_arg(notes, 'notes', 10000),
                                private.text_arg(recording_url, 'recording_url', 2000))).session;
end
$$;
comment on function public.complete_session(text, text, text) is
$$Marks a scheduled session completed, after its start (the session's mentor or an admin), with optional notes and an https recording URL. After the pack's second-to-last session the renewal reminder goes out; when nothing is left the pack is used up and the seat enters grace.
Arguments: session_id (UUID), notes (optional, at most 10000 characters), recording_url (optional https:// URL).
Errors: 403 PT403 not the session's mentor or an admin; 404 PT404 no such session; 409 PT409 not scheduled, not started yet; 422 PT422 missing or malformed argument, recording_url not https.$$;
revoke execute on function public.complete_session(text, text, text) from public, anon;
grant execute on function public.complete_session(text, text, text) to authenticated;

create or replace function public.mark_no_show(session_id text default null, who text default null)
returns public.session_change
language plpgsql
volatile
set search_path = ''
as $$
declare
  id uuid := private.uuid_arg(session_id, 'session_id');
begin
  if who is null or who not in ('student', 'mentor') then
    perform private.refuse(422, format('who: %s is not student or mentor', private.quoted(who)),
      hint => 'Send who as "student" or "mentor": the one who did not show up.', details => 'who');
  end if;
  return private.close_session(id, (who || '_no_show')::public.session_status, null, null);
end
$$;
comment on function public.mark_no_show(text, text) is
$$Marks that the student or the mentor (who) did not show up, after the start (the session's mentor or an admin). A student no-show uses the credit; a mentor no-show gives it back.
Arguments: session_id (UUID), who ("student" or "mentor").
Errors: 403 PT403 not the session's mentor or an admin; 404 PT404 no such session; 409 PT409 not scheduled, not started yet; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.mark_no_show(text, text) from public, anon;
grant execute on function public.mark_no_show(text, text) to authenticated;

create or replace function public.adjust_pack_sessions(pack_id text default null, delta text default null,
                                                       reason text default null)
returns public.session_packs
language plpgsql
volatile
set search_path = ''
as $$
declare
  id uuid := private.uuid_arg(pack_id, 'pack_id');
  n integer := private.integer_arg(delta, 'delta', -52, 52);
begin
  if n = 0 then
    perform private.refuse(422, 'delta: 0 changes nothing',
      hint => 'Send delta as a whole number from -52 to 52, not 0.', details => 'delta');
  end if;
  return private.adjust_pack_sessions(id, n, private.text_arg(reason, 'reason', 1000, required => true));
end
$$;
comment on function public.adjust_pack_sessions(text, text, text) is
$$Admin only: adds (delta > 0) or removes (delta < 0) sessions on a pack, with a reason, never below zero. Goes through the credit ledger and the audit log; a used-up pack with credits again becomes active and its seat leaves grace.
Arguments: pack_id (UUID), delta (whole number from -52 to 52, not 0), reason (text, at most 1000 characters).
Errors: 403 PT403 not an admin; 404 PT404 no such pack; 409 PT409 pack refunded or expired, seat released, would go below zero; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.adjust_pack_sessions(text, text, text) from public, anon;
grant execute on function public.adjust_pack_sessions(text, text, text) to authenticated;

create or replace function public.video_session_access(session_id text default null)
returns public.video_access
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.video_session_access(private.uuid_arg(session_id, 'session_id'));
end
$$;
comment on function public.video_session_access(text) is
$$The call's channel and your role (student or mentor), when you are one of the session's two participants, it is scheduled, and it is between 10 minutes before the start and 15 minutes after the end; expires_at is when the token must expire.
Arguments: session_id (UUID).
Errors: 403 PT403 not a participant; 404 PT404 no such session; 409 PT409 not scheduled, call not open yet, call closed; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.video_session_access(text) from public, anon;
grant execute on function public.video_session_access(text) to authenticated;

create or replace function public.create_order(product_id text default null, provider text default null,
                                               promo_code text default null)
returns public.orders
language plpgsql
volatile
set search_path = ''
as $$
declare
  id uuid := private.uuid_arg(product_id, 'product_id');
begin
  if provider is null or provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider: %s is not stripe or paypal', private.quoted(provider)),
      hint => 'Send provider as "stripe" or "paypal".', details => 'provider');
  end if;
  return private.create_order(id, provider, private.text_arg(promo_code, 'promo_code', 64));
end
$$;
comment on function public.create_order(text, text, text) is
$$Starts a purchase of a product with stripe or paypal. Prices it (your grandfathered price when you paid less for this product before, then the promotion code) and holds a seat with the mentor for 30 minutes (Stripe: 32, its minimum) unless you hold one already. Calling it again while the order is open returns the same order.
Arguments: product_id (UUID), provider ("stripe" or "paypal"), promo_code (optional, at most 64 characters).
Errors: 403 PT403 not a student; 404 PT404 no such product; 409 PT409 product no longer sold, mentor has no free seat, mentor not taking new students; 422 PT422 missing or malformed argument, or a promotion code that is unknown, switched off, not yet valid, expired, used up, already used by you, for another product or mentor, or in another currency (details: promo_code).$$;
revoke execute on function public.create_order(text, text, text) from public, anon;
grant execute on function public.create_order(text, text, text) to authenticated;

create or replace function public.attach_order_checkout(order_id text default null,
                                                        provider_checkout_id text default null)
returns public.orders
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.attach_order_checkout(private.uuid_arg(order_id, 'order_id'),
    private.text_arg(provider_checkout_id, 'provider_checkout_id', 255, required => true));
end
$$;
comment on function public.attach_order_checkout(text, text) is
$$Service role: records the Stripe Checkout Session or PayPal order id of a pending order (idempotent).
Arguments: order_id (UUID), provider_checkout_id (text, at most 255 characters).
Errors: 404 PT404 no such order; 409 PT409 the order has another checkout or is no longer pending; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.attach_order_checkout(text, text) from public, anon, authenticated;
grant execute on function public.attach_order_checkout(text, text) to service_role;

create or replace function public.link_discord(user_id text default null, discord_user_id text default null)
returns public.profiles
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.link_discord(private.uuid_arg(user_id, 'user_id'),
    private.text_arg(discord_user_id, 'discord_user_id', 20, required => true));
end
$$;
comment on function public.link_discord(text, text) is
$$Service role (GET /oauth/discord/callback, after Discord's OAuth2 flow): links the Discord account Discord vouched for to user_id; Discord messages go there from then on. Returns the profile.
Arguments: user_id (UUID), discord_user_id (the 17 to 20 digits of a Discord user id).
Errors: 404 PT404 no such profile; 409 PT409 the Discord account is linked to another profile; 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.link_discord(text, text) from public, anon, authenticated;
grant execute on function public.link_discord(text, text) to service_role;

create or replace function public.unlink_discord()
returns public.profiles
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.unlink_discord();
end
$$;
comment on function public.unlink_discord() is
$$Unlinks your Discord account: no more Discord messages until you link one again (GET /oauth/discord/start). Returns your profile.
Errors: 404 PT404 you have no profile.$$;
revoke execute on function public.unlink_discord() from public, anon;
grant execute on function public.unlink_discord() to authenticated;

create or replace function public.unsubscribe(user_id text default null, kind text default null,
                                              channel text default null)
returns public.notification_preferences
language plpgsql
volatile
set search_path = ''
as $$
declare
  k text := private.text_arg(kind, 'kind', 64, required => true);
  c text := private.text_arg(channel, 'channel', 64, required => true);
begin
  if not k = any (pg_catalog.enum_range(null::public.notification_kind)::text[]) then
    perform private.refuse(422, format('kind: %s is not a kind of message', private.quoted(k)),
      hint => format('Send kind as one of the kinds that may be turned off: %s.',
                     pg_catalog.array_to_string(private.optional_message_kinds(), ', ')),
      details => 'kind');
  end if;
  if not c = any (pg_catalog.enum_range(null::public.notification_channel)::text[]) then
    perform private.refuse(422, format('channel: %s is not email or discord', private.quoted(c)),
      hint => 'Send channel as "email" or "discord".', details => 'channel');
  end if;
  return private.unsubscribe(private.uuid_arg(user_id, 'user_id'), k::public.notification_kind,
                             c::public.notification_channel);
end
$$;
comment on function public.unsubscribe(text, text, text) is
$$Service role (POST /messages/unsubscribe, after the services verified the link's signed token): turns one kind of message off for user_id on one channel; calling it again changes nothing. Returns the preference.
Arguments: user_id (UUID), kind (one that may be turned off: session_reminder_24h, session_reminder_1h, renewal_reminder, one_session_left), channel ("email" or "discord").
Errors: 404 PT404 no such profile; 422 PT422 missing or malformed argument, or a kind that may not be turned off (details names it).$$;
revoke execute on function public.unsubscribe(text, text, text) from public, anon, authenticated;
grant execute on function public.unsubscribe(text, text, text) to service_role;

create or replace function public.my_notification_preferences()
returns table (kind public.notification_kind, channel public.notification_channel, enabled boolean,
               updated_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select * from private.my_notification_preferences()
$$;
comment on function public.my_notification_preferences() is
$$Your message switches: every kind of message that may be turned off (session_reminder_24h, session_reminder_1h, renewal_reminder, one_session_left) on every channel (email, discord), with enabled (true unless you turned it off) and when you last changed it. Change one with POST /rest/v1/notification_preferences?on_conflict=user_id,kind,channel (Prefer: resolution=merge-duplicates) and {"kind", "channel", "enabled"}. Other messages (purchases, bookings, changes, cancellations, refunds, your seat's grace period) are always sent.$$;
revoke execute on function public.my_notification_preferences() from public, anon;
grant execute on function public.my_notification_preferences() to authenticated;

create or replace function public.order_for_capture(order_id text default null)
returns public.orders
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.order_for_capture(private.uuid_arg(order_id, 'order_id'));
end
$$;
comment on function public.order_for_capture(text) is
$$Your pending PayPal order, while its seat hold is valid (the capture endpoint captures only then).
Arguments: order_id (UUID).
Errors: 403 PT403 not yours; 404 PT404 no such order; 409 PT409 no PayPal checkout, not pending, hold ran out; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.order_for_capture(text) from public, anon;
grant execute on function public.order_for_capture(text) to authenticated;

create or replace function public.record_payment_event(provider text default null, event_id text default null,
                                                       event_type text default null, payload jsonb default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  if provider is null or provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider: %s is not stripe or paypal', private.quoted(provider)),
      hint => 'Send provider as "stripe" or "paypal".', details => 'provider');
  end if;
  return private.record_payment_event(provider,
    private.text_arg(event_id, 'event_id', 255, required => true),
    private.text_arg(event_type, 'event_type', 255, required => true),
    payload);
end
$$;
comment on function public.record_payment_event(text, text, text, jsonb) is
$$Service role (webhooks): stores a verified provider event once (per provider and event id) and applies it in the same transaction. Returns {outcome: fulfilled | duplicate | flagged | released | refunded | partially_refunded | deferred | awaiting_payment | ignored, order_id, ...}.
Arguments: provider ("stripe" or "paypal"), event_id and event_type (text, at most 255 characters), payload (the event, a JSON object).
Errors: 422 PT422 missing or malformed argument, payload not an object, a malformed amount.$$;
revoke execute on function public.record_payment_event(text, text, text, jsonb) from public, anon, authenticated;
grant execute on function public.record_payment_event(text, text, text, jsonb) to service_role;

-- >>> sql/rules/audit.sql
-- Every state change of packs, seats, sessions, orders and payments lands in the audit log, with who did it
-- (the JWT's sub; null for workers, cron jobs and the service role), and so does every admin action the
-- rules do not log themselves: roles, mentors listed or not, prices, products retired, promotion codes,
-- platform settings. Trigger arguments name the watched columns.
create or replace function private.tg__audit_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) end;
  new_row jsonb := to_jsonb(new);
  before jsonb := '{}'::jsonb;
  after jsonb := '{}'::jsonb;
  col text;
begin
  foreach col in array tg_argv loop
    if tg_op = 'INSERT' or old_row -> col is distinct from new_row -> col then
      after := after || jsonb_build_object(col, new_row -> col);
      if tg_op = 'UPDATE' then
        before := before || jsonb_build_object(col, old_row -> col);
      end if;
    end if;
  end loop;
  if tg_op = 'UPDATE' and after = '{}' then
    return null;
  end if;
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values)
  values (
    (select auth.uid()),
    tg_table_name || case
      when tg_op = 'INSERT' then '.created'
      when after ? 'status' then '.' || (new_row ->> 'status')
      else '.changed' end,
    tg_table_name, case when jsonb_typeof(new_row -> 'id') = 'string' then (new_row ->> 'id')::uuid end,
    case when tg_op = 'UPDATE' then before end, after);
  return null;
end
$$;
comment on function private.tg__audit_changes() is
  'Writes an audit_log row for an insert, or for an update that changed one of the columns named as trigger arguments.';
revoke execute on function private.tg__audit_changes() from public, anon, authenticated;

do $$
declare
  t record;
  args text;
begin
  for t in select * from (values ('session_packs', array['status'], true),
                                 ('seat_reservations', array['status', 'grace_ends_at'], true),
                                 ('sessions', array['status', 'starts_at'], true),
                                 ('orders', array['status'], true),
                                 ('payments', array['status', 'refunded_cents'], true),
                                 ('profiles', array['role'], false),
                                 ('mentors', array['is_active', 'accepting_students', 'seat_capacity'], true),
                                 ('mentorship_products', array['is_active', 'price_cents'], true),
                                 ('promotion_codes', array['code', 'is_active', 'valid_until', 'max_redemptions'], true),
                                 ('platform_settings', array['seat_hold_minutes', 'grace_period_hours',
                                   'grace_warning_hours', 'cancel_notice_hours', 'video_join_early_minutes',
                                   'video_join_late_minutes', 'default_sessions_per_pack',
                                   'default_pack_validity_days', 'default_currency'], true)) v (name, cols, on_insert)
  loop
    args := (select string_agg(quote_literal(c), ', ') from unnest(t.cols) c);
    execute format('drop trigger if exists _300_audit on public.%I', t.name);  -- its former name
    execute format('drop trigger if exists _300_audit_insert on public.%I', t.name);
    execute format('drop trigger if exists _301_audit_update on public.%I', t.name);
    if t.on_insert then  -- a sign-up is no admin action: profiles are audited on change only
      execute format('create trigger _300_audit_insert after insert on public.%I for each row'
                     ' execute function private.tg__audit_changes(%s)', t.name, args);
    end if;
    -- the WHEN clause spares updates that change none of the columns the trigger's cost
    execute format('create trigger _301_audit_update after update on public.%I for each row when (%s)'
                   ' execute function private.tg__audit_changes(%s)', t.name,
                   (select string_agg(format('old.%1$I is distinct from new.%1$I', c), ' or ')
                      from unnest(t.cols) c), args);
  end loop;
end
$$;

-- >>> sql/rules/auth_helpers.sql
-- Who the caller is, for policies and RPCs. Roles come from profiles.role, never from the
-- JWT's user-editable metadata. Security definer so that policies can read profiles without
-- recursing into profiles' own policies.
create or replace function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select from public.profiles p
    where p.id = (select auth.uid()) and p.role = 'admin'
  )
$$;
comment on function private.is_admin() is 'True when the caller''s profile has role admin.';
revoke execute on function private.is_admin() from public, anon;
grant execute on function private.is_admin() to authenticated, service_role;

-- The admins' arm of a policy on a table read by mentor_id: every mentor's id for an admin,
-- none for anyone else, used as `mentor_id = any ((select private.admin_mentor_ids())::uuid[])`.
-- Then every arm of the table's read policies is an index condition and the planner combines
-- them (BitmapOr). A bare `(select private.is_admin())` arm is none: with it, a student reading
-- their 50 latest sessions scanned the whole table (bench/api_reads.py, bench/README.md).
create or replace function private.admin_mentor_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select case when private.is_admin() then array(select m.id from public.mentors m)
              else '{}'::uuid[] end
$$;
comment on function private.admin_mentor_ids() is
  'Every mentor''s id when the caller is an admin, else none (the admins'' arm of index-friendly read policies).';
revoke execute on function private.admin_mentor_ids() from public, anon;
grant execute on function private.admin_mentor_ids() to authenticated, service_role;

create or replace function private.my_student_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select distinct s.student_id
  from public.seat_reservations s
  where s.mentor_id = (select auth.uid())
$$;
comment on function private.my_student_ids() is
  'Students who hold or held a seat with the calling mentor (for reading their profiles).';
revoke execute on function private.my_student_ids() from public, anon;
grant execute on function private.my_student_ids() to authenticated, service_role;

-- >>> sql/rules/availability.sql
-- Availability: the slots a mentor can be booked for, as every booking screen lists them
-- (public.mentor_availability in api.sql is the RPC). private.slot_fits (booking/slots.sql) is THE rule
-- of what a slot is, and booking checks it; the listing here generates exactly the instants it
-- accepts, set-based, in one query (tests/sql/rules/test_slots.py holds the two together across
-- DST changes, odd offsets, grids and windows).

-- The mentor's slots starting in [from_at, to_at), in order, set-based: each working window steps
-- through its weekday's local dates a week apart (from the day before from_at's, for a clock turned
-- back, to to_at's), each window's grid is stepped by generate_series in local wall time from local
-- midnight, and each start is read as an instant once. A start is a slot exactly when slot_fits says so:
--   * its wall time exists and is not the first pass of a repeated hour: the instant it names reads
--     back as the same wall time (a time in a spring-forward gap names an instant whose wall time
--     is later; a repeated time names its second pass);
--   * it is on the grid, from the window's start on (by construction), on the window's local day;
--   * the slot ends, in real time, by the window's end as Postgres reads that wall time
--     (closes_at). The grid runs up to the wall time of the last start that ends by then (on a
--     day the clocks go back, later than end minus slot length) and to to_at's wall time; windows
--     that close by from_at are skipped. Both bounds only drop starts that cannot be slots.
-- SQL, security invoker and without a SET clause, so the planner inlines it into the caller's
-- query; it reads no table and names everything qualified. "offset 0" keeps a subquery's values
-- computed once per row of its level (the mentor's fields once, a window's close once per day, a
-- start's instant once), where the planner would otherwise repeat the expression at every use.
create or replace function private.working_slots(m public.mentors, from_at timestamptz, to_at timestamptz)
returns table (starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
as $$
  select s.starts_at, s.starts_at + p.slot
    from (select m.time_zone as zone,
                 (from_at at time zone m.time_zone)::date - 1 as first_day,
                 to_at at time zone m.time_zone as local_to,
                 pg_catalog.make_interval(mins => m.slot_minutes) as slot,
                 pg_catalog.make_interval(mins => m.slot_grid_minutes) as grid,
                 m.slot_grid_minutes as grid_minutes,
                 m.working_hours
          offset 0) p  -- offset 0 here and below: computed once, not again at every use
   cross join lateral pg_catalog.jsonb_array_elements(p.working_hours) w
   -- the window's days: its weekday's dates from first_day on, a week apart
   cross join lateral pg_catalog.generate_series(
         (p.first_day + ((w ->> 'weekday')::integer - extract(isodow from p.first_day)::integer + 7) % 7)::timestamp,
         p.local_to, interval '7 days') d (day)
   cross join lateral (
         select d.day + pg_catalog.make_interval(mins => ((extract(epoch from (w ->> 'start')::time)::integer / 60
                                                          + p.grid_minutes - 1) / p.grid_minutes * p.grid_minutes))
                  as first_start,
                (d.day + case when w ->> 'end' = '24:00' then interval '24 hours'
                              else (w ->> 'end')::time - time '00:00' end) at time zone p.zone as closes_at
         offset 0) c
   cross join lateral pg_catalog.generate_series(
         c.first_start,
         least((c.closes_at - p.slot) at time zone p.zone, d.day + interval '23:59', p.local_to),
         p.grid) l (local_start)
   cross join lateral (select l.local_start at time zone p.zone as starts_at offset 0) s
   where c.closes_at > from_at
     and s.starts_at at time zone p.zone = l.local_start
     and s.starts_at + p.slot <= c.closes_at
     and s.starts_at >= from_at
     and s.starts_at < to_at
   order by 1
$$;
comment on function private.working_slots(public.mentors, timestamptz, timestamptz) is
  'Slots on the mentor''s grid inside working hours (mentor''s zone, DST-correct) starting in [from_at, to_at): exactly the instants private.slot_fits accepts.';
-- Only private.mentor_availability (a definer) calls it: no API role needs it.
revoke execute on function private.working_slots(public.mentors, timestamptz, timestamptz) from public, anon, authenticated;
grant execute on function private.working_slots(public.mentors, timestamptz, timestamptz) to service_role;

-- Bookable slots: working_slots from the notice to the horizon, after now, minus every slot whose
-- range with buffer overlaps a scheduled session (with its buffer) or a calendar busy time. Those
-- are read once (the two gist indexes, only what overlaps the asked range) into one multirange, and
-- each slot is a single range test against it; one statement. Its plan is made once per connection
-- (force_generic_plan: a custom plan, where the mentor row is a constant and looks cheaper, was
-- made again at every call, ~0.5 ms), and never JIT-compiled (generate_series' default estimate of
-- 1000 rows, nested, puts its cost far above jit_above_cost; compiling took 9 ms to 275 ms a call).
create or replace function private.mentor_availability(mentor_id uuid, from_at timestamptz, to_at timestamptz)
returns table (starts_at timestamptz, ends_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
  now_ timestamptz := private.clock_now();
  m public.mentors;
  lo timestamptz;
  hi timestamptz;
  buffer interval;
begin
  if mentor_availability.mentor_id is null or from_at is null or to_at is null then
    perform private.refuse(422, 'mentor_id, from_at and to_at are required');
  end if;
  if to_at <= from_at then
    perform private.refuse(422, 'to_at must be after from_at', details => 'to_at');
  end if;
  if to_at - from_at > interval '35 days' then
    perform private.refuse(422, 'ask for at most 35 days at a time', details => 'to_at');
  end if;
  select * into m from public.mentors x where x.id = mentor_availability.mentor_id and x.is_active;
  if not found then
    perform private.refuse(404, format('no active mentor with id %s', mentor_availability.mentor_id));
  end if;
  lo := greatest(from_at, now_ + make_interval(mins => m.min_notice_minutes));
  hi := least(to_at, now_ + make_interval(days => m.booking_horizon_days));
  buffer := make_interval(mins => m.buffer_minutes);
  -- Fail closed: a connected mentor whose calendar sync is stale offers nothing (google/busy.sql).
  if hi <= lo or private.calendar_closed(m.id, now_) is not null then
    return;
  end if;
  return query
    with busy as (
      select coalesce(pg_catalog.range_agg(r), '{}') as ranges
        from (select pg_catalog.tstzrange(x.starts_at, x.blocked_until) as r
                from public.sessions x
               where x.mentor_id = m.id and x.status = 'scheduled'
                 and pg_catalog.tstzrange(x.starts_at, x.blocked_until)
                     && pg_catalog.tstzrange(lo, hi + make_interval(mins => m.slot_minutes) + buffer)
              union all
              select pg_catalog.tstzrange(b.starts_at, b.ends_at)
                from private.calendar_busy_intervals b
               where b.mentor_id = m.id
                 and pg_catalog.tstzrange(b.starts_at, b.ends_at)
                     && pg_catalog.tstzrange(lo, hi + make_interval(mins => m.slot_minutes) + buffer)) taken
    )
    select s.starts_at, s.ends_at
      from private.working_slots(m, lo, hi) s, busy
     where s.starts_at > now_  -- with no notice, the slot starting this instant has passed already
       and not (busy.ranges && pg_catalog.tstzrange(s.starts_at, s.ends_at + buffer))
     order by s.starts_at;
end
$$;
comment on function private.mentor_availability(uuid, timestamptz, timestamptz) is
  'Bookable slots of an active mentor (see public.mentor_availability).';
revoke execute on function private.mentor_availability(uuid, timestamptz, timestamptz) from public;
grant execute on function private.mentor_availability(uuid, timestamptz, timestamptz) to anon, authenticated, service_role;

-- >>> sql/rules/booking/adjust.sql
-- Booking: an admin adds or removes sessions of a pack (adjust_pack_sessions).

create or replace function private.adjust_pack_sessions(pack_id uuid, delta integer, reason text)
returns public.session_packs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.session_packs;
  seat_status public.seat_status;
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins can adjust a pack');
  end if;
  if delta is null or delta = 0 or delta not between -52 and 52 then
    perform private.refuse(422, 'delta must be a whole number between -52 and 52, not 0', details => 'delta');
  end if;
  if reason is null or btrim(reason) = '' then
    perform private.refuse(422, 'reason is required', details => 'reason');
  end if;
  if length(reason) > 1000 then
    perform private.refuse(422, 'reason is longer than 1000 characters', details => 'reason');
  end if;
  select * into p from public.session_packs x where x.id = adjust_pack_sessions.pack_id for update;
  if not found then
    perform private.refuse(404, format('no pack with id %s', adjust_pack_sessions.pack_id));
  end if;
  if p.status not in ('active', 'depleted') then
    perform private.refuse(409, format('the pack is %s; only active or used-up packs can be adjusted', p.status));
  end if;
  select x.status into seat_status from public.seat_reservations x where x.id = p.seat_reservation_id;
  if seat_status = 'released' and delta > 0 then
    perform private.refuse(409, 'the student''s seat was released; they need a new pack');
  end if;
  if p.remaining_sessions + delta < 0 then
    perform private.refuse(409, format('the pack has %s sessions left; cannot remove %s', p.remaining_sessions, -delta::bigint));
  end if;
  insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
  values (p.id, p.mentor_id, p.student_id, 'admin_adjustment', delta, btrim(reason), (select auth.uid()));
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values, reason)
  values ((select auth.uid()), 'session_packs.sessions_adjusted', 'session_packs', p.id,
          jsonb_build_object('remaining_sessions', p.remaining_sessions),
          jsonb_build_object('remaining_sessions', p.remaining_sessions + delta, 'delta', delta), btrim(reason));
  perform private.refresh_pack(p.id);
  select * into p from public.session_packs x where x.id = p.id;
  return p;
end
$$;
comment on function private.adjust_pack_sessions(uuid, integer, text) is 'See public.adjust_pack_sessions.';
revoke execute on function private.adjust_pack_sessions(uuid, integer, text) from public, anon;
grant execute on function private.adjust_pack_sessions(uuid, integer, text) to authenticated;

-- >>> sql/rules/booking/book.sql
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

-- >>> sql/rules/booking/cancel.sql
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

-- >>> sql/rules/booking/close.sql
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

-- >>> sql/rules/booking/mentor_sessions.sql
-- A mentor's sessions, newest first, page by page: the read a mentor's dashboard and the admins'
-- "expand a mentor" make. Reading public.sessions through its policies gives the same rows, but
-- the policies' arms are OR'ed (the student's, the mentor's, the admins'), so the planner fetches
-- every session of the mentor and sorts them for the newest 50; here the one arm that applies is
-- the query, and the rows come in index order (sessions_mentor_id_starts_at_idx, backwards). At
-- 1M sessions the busiest mentor's 50 newest: bench/api_reads.py, bench/README.md.
-- Who may read: the mentor, and admins (any mentor); the same rows the policies give them.
create or replace function private.mentor_sessions(p_mentor_id uuid, p_before timestamptz,
                                                   p_before_id uuid, p_max_rows integer)
returns setof public.sessions
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller uuid := auth.uid();
  target uuid := coalesce(p_mentor_id, caller);
begin
  if target is distinct from caller and not private.is_admin() then
    perform private.refuse(403, 'only the mentor and admins may list a mentor''s sessions',
      'Leave mentor_id out to list your own sessions.', 'mentor_id');
  end if;
  if not exists (select from public.mentors m where m.id = target) then
    if p_mentor_id is null then
      perform private.refuse(422, 'mentor_id is required: you are not a mentor',
        'Send mentor_id as the UUID of the mentor whose sessions you may read.', 'mentor_id');
    end if;
    perform private.refuse(404, 'no mentor with that mentor_id',
      'Send mentor_id as the UUID of a mentor.', 'mentor_id');
  end if;
  if p_before_id is not null and p_before is null then
    perform private.refuse(422, 'before_id needs before',
      'Send before (the starts_at of the last row you have) with before_id (its id).', 'before_id');
  end if;
  -- Three plain queries rather than one with "p_before is null or ...": each keeps its own plan.
  if p_before is null then
    return query select s.* from public.sessions s
      where s.mentor_id = target
      order by s.starts_at desc, s.id desc limit p_max_rows;
  elsif p_before_id is null then
    return query select s.* from public.sessions s
      where s.mentor_id = target and s.starts_at < p_before
      order by s.starts_at desc, s.id desc limit p_max_rows;
  else
    return query select s.* from public.sessions s
      where s.mentor_id = target and s.starts_at <= p_before
        and (s.starts_at < p_before or s.id < p_before_id)
      order by s.starts_at desc, s.id desc limit p_max_rows;
  end if;
end
$$;
comment on function private.mentor_sessions(uuid, timestamptz, uuid, integer) is
  'A mentor''s sessions newest first (starts_at, then id), before a cursor; the mentor or an admin.';
revoke execute on function private.mentor_sessions(uuid, timestamptz, uuid, integer) from public, anon;
grant execute on function private.mentor_sessions(uuid, timestamptz, uuid, integer) to authenticated;

create or replace function public.mentor_sessions(mentor_id text default null, before text default null,
                                                  before_id text default null, max_rows text default null)
returns setof public.sessions
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.mentor_sessions(
    private.uuid_arg(mentor_id, 'mentor_id', false),
    private.timestamptz_arg(before, 'before', false),
    private.uuid_arg(before_id, 'before_id', false),
    case when max_rows is null then 50 else private.integer_arg(max_rows, 'max_rows', 1, 500) end);
end
$$;
comment on function public.mentor_sessions(text, text, text, text) is
$$A mentor's sessions, newest first (by starts_at, then id), every status: your own, or any mentor's for an admin. The next page: before = the last row's starts_at and before_id = its id.
Arguments: mentor_id (optional UUID; default: you), before (optional ISO 8601 instant with offset: only sessions starting before it), before_id (optional UUID, with before: also the sessions starting at before whose id sorts below it), max_rows (optional whole number 1 to 500; default 50).
Errors: 403 PT403 another mentor's sessions and you are not an admin; 404 PT404 no mentor with that id; 422 PT422 a malformed argument, you are not a mentor and sent no mentor_id, before_id without before (details names the field).$$;
revoke execute on function public.mentor_sessions(text, text, text, text) from public, anon;
grant execute on function public.mentor_sessions(text, text, text, text) to authenticated;

-- >>> sql/rules/booking/reschedule.sql
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

-- >>> sql/rules/booking/sessions.sql
-- Booking: the helpers every session change uses (save a session, who is acting, lock a session).
-- Booking rules (booking/*.sql): slots, book, cancel, reschedule, close (complete, no-show), admin
-- adjustment, video access. Clients call the public functions (POST /rest/v1/rpc/NAME); each is a
-- thin security-invoker wrapper over a security-definer function in private, which checks who
-- the caller is and every rule. Errors: PT403 not yours, PT404 unknown, PT409 conflict,
-- PT422 invalid input (PostgREST answers with that HTTP status and the message).
-- Lock order everywhere: pack, then session, then seat, then mentor.

-- Writes a session row. Overlaps are refused with a message a person can act on; the exclusion
-- constraints still decide a race between two concurrent writers (PostgREST answers their
-- 23P01 with 409). No exception block here: it would open a subtransaction on every booking.
create or replace function private.save_session(s public.sessions)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  saved public.sessions;
begin
  -- Bookings that could overlap take turns from here to commit, so the checks below see every
  -- committed session and a lost race is their 409, not the exclusion constraint's error (which
  -- PostgREST 12.0 answers with 400); the constraints stay the last word. Two overlapping ranges
  -- of a mentor share an instant, hence an hour: each booking locks the mentor's hours its range
  -- (with buffer) touches, in ascending order, so bookings of other hours do not wait. Then the
  -- student, whole.
  -- (A loop of simple expressions, h counting hours since 1970: a query over generate_series
  -- would be planned again at every call.)
  for h in floor(extract(epoch from s.starts_at) / 3600)::integer
        .. floor((extract(epoch from s.blocked_until) - 1) / 3600)::integer loop
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(s.mentor_id::text || ':' || h, 0));
  end loop;
  perform pg_catalog.pg_advisory_xact_lock(2, pg_catalog.hashtext(s.student_id::text));
  if exists (select from public.sessions x
              where x.mentor_id = s.mentor_id and x.status = 'scheduled' and x.id is distinct from s.id
                and tstzrange(x.starts_at, x.blocked_until) && tstzrange(s.starts_at, s.blocked_until)) then
    perform private.refuse(409, 'that slot is taken', hint => 'Pick another slot from mentor_availability.');
  end if;
  if exists (select from public.sessions x
              where x.student_id = s.student_id and x.status = 'scheduled' and x.id is distinct from s.id
                and tstzrange(x.starts_at, x.ends_at) && tstzrange(s.starts_at, s.ends_at)) then
    perform private.refuse(409, 'you already have a session at that time');
  end if;
  if s.id is null then
    insert into public.sessions (pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
    values (s.pack_id, s.mentor_id, s.student_id, s.starts_at, s.ends_at, s.blocked_until)
    returning * into saved;
  else
    update public.sessions
       set starts_at = s.starts_at, ends_at = s.ends_at, blocked_until = s.blocked_until,
           reschedule_count = s.reschedule_count
     where id = s.id
    returning * into saved;
  end if;
  return saved;
end
$$;
comment on function private.save_session(public.sessions) is
  'Inserts a new scheduled session, or moves an existing one; an overlap is refused with PT409.';
revoke execute on function private.save_session(public.sessions) from public, anon, authenticated;

-- Who is acting on a session: 'student', 'mentor', 'admin' or null.
create or replace function private.session_actor(s public.sessions)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when (select auth.uid()) = s.student_id then 'student'
    when (select auth.uid()) = s.mentor_id then 'mentor'
    when private.is_admin() then 'admin'
  end
$$;
comment on function private.session_actor(public.sessions) is
  'The caller''s part in a session: student, mentor, admin, or null.';
revoke execute on function private.session_actor(public.sessions) from public, anon, authenticated;

-- Loads a session for a change, locking in the global order (its pack, then the session).
create or replace function private.lock_session(session_id uuid)
returns public.sessions
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pack uuid;
  s public.sessions;
begin
  if lock_session.session_id is null then
    perform private.refuse(422, 'session_id is required', details => 'session_id');
  end if;
  select x.pack_id into pack from public.sessions x where x.id = lock_session.session_id;
  if not found then
    perform private.refuse(404, format('no session with id %s', lock_session.session_id));
  end if;
  perform from public.session_packs x where x.id = pack for update;
  select * into s from public.sessions x where x.id = lock_session.session_id for update;
  return s;
end
$$;
comment on function private.lock_session(uuid) is 'Locks a session''s pack, then the session, and returns the session; 404 when unknown.';
revoke execute on function private.lock_session(uuid) from public, anon, authenticated;

-- >>> sql/rules/booking/slots.sql
-- Booking: what a slot is (slot_fits) and whether a start is bookable for a pack now (check_slot).

-- THE rule of what a slot is: starts_at is on the mentor's grid (counted from local midnight in
-- the mentor's zone), at a local time that exists and is not the repeated hour of a DST change,
-- inside one of that weekday's working windows, and the slot ends (in real time) by the window's
-- end. Booking checks it directly; the availability listing (availability.sql) is exactly the
-- instants it accepts.
create or replace function private.slot_fits(m public.mentors, starts_at timestamptz)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  local_start timestamp := starts_at at time zone m.time_zone;
  day date := local_start::date;
begin
  return extract(second from local_start) = 0
     and (extract(hour from local_start) * 60 + extract(minute from local_start))::integer % m.slot_grid_minutes = 0
     and local_start at time zone m.time_zone = starts_at
     and exists (
           select from jsonb_array_elements(m.working_hours) w
            where (w ->> 'weekday')::integer = extract(isodow from day)
              and local_start >= day + (w ->> 'start')::time
              and starts_at + make_interval(mins => m.slot_minutes)
                  <= (day + case when w ->> 'end' = '24:00' then interval '24 hours'
                                 else (w ->> 'end')::time - time '00:00' end) at time zone m.time_zone);
end
$$;
comment on function private.slot_fits(public.mentors, timestamptz) is
  'True when starts_at is a slot of the mentor: on the grid, inside working hours in the mentor''s zone, DST-correct.';
-- Only definers (check_slot, the booking RPCs) call it: no API role needs it.
revoke execute on function private.slot_fits(public.mentors, timestamptz) from public, anon, authenticated;
grant execute on function private.slot_fits(public.mentors, timestamptz) to service_role;


-- Is this start a valid slot for this pack at now_ (the caller's business clock)? Raises the
-- first rule it breaks.
-- (The version that read the clock itself.)
drop function if exists private.check_slot(public.mentors, public.session_packs, timestamptz);

create or replace function private.check_slot(m public.mentors, p public.session_packs, starts_at timestamptz,
                                              now_ timestamptz)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  local_start timestamp := starts_at at time zone m.time_zone;
  slot interval := make_interval(mins => m.slot_minutes);
  closed text;
begin
  if starts_at <= now_ then
    perform private.refuse(422, format('starts_at %s is in the past', starts_at), details => 'starts_at');
  end if;
  if extract(second from local_start) <> 0
     or (extract(hour from local_start) * 60 + extract(minute from local_start))::integer % m.slot_grid_minutes <> 0 then
    perform private.refuse(422, format('starts_at is not on the mentor''s %s-minute grid (%s in %s)', m.slot_grid_minutes, to_char(local_start, 'YYYY-MM-DD HH24:MI:SS'), m.time_zone), hint => 'Pick a slot from mentor_availability.', details => 'starts_at');
  end if;
  if not private.slot_fits(m, starts_at) then
    perform private.refuse(422, format('starts_at is outside the mentor''s working hours (%s in %s)', to_char(local_start, 'Dy YYYY-MM-DD HH24:MI'), m.time_zone), hint => 'Pick a slot from mentor_availability.', details => 'starts_at');
  end if;
  if starts_at < now_ + make_interval(mins => m.min_notice_minutes) then
    perform private.refuse(422, format('sessions with this mentor must be booked at least %s minutes ahead', m.min_notice_minutes), details => 'starts_at');
  end if;
  if starts_at > now_ + make_interval(days => m.booking_horizon_days) then
    perform private.refuse(422, format('sessions with this mentor can be booked at most %s days ahead', m.booking_horizon_days), details => 'starts_at');
  end if;
  if starts_at + slot > p.expires_at then
    perform private.refuse(422, format('the session would end after the pack expires (%s)', p.expires_at), details => 'starts_at');
  end if;
  -- Fail closed: busy times unknown (stale or revoked Google Calendar sync) is never free.
  closed := private.calendar_closed(m.id, now_);
  if closed is not null then
    perform private.refuse(409, closed,
      hint => 'Try again later: the mentor''s calendar must sync first (the mentor may need to reconnect Google Calendar).');
  end if;
  if exists (select from private.calendar_busy_intervals b
              where b.mentor_id = m.id
                and tstzrange(b.starts_at, b.ends_at)
                    && tstzrange(check_slot.starts_at,
                                 check_slot.starts_at + slot + make_interval(mins => m.buffer_minutes))) then
    perform private.refuse(409, 'the mentor is busy at that time', hint => 'Pick another slot.');
  end if;
end
$$;
comment on function private.check_slot(public.mentors, public.session_packs, timestamptz, timestamptz) is
  'Raises PT422/PT409 when starts_at is not a bookable slot for the pack (past, off grid, outside hours, notice, horizon, pack expiry, calendar sync stale, calendar busy).';
revoke execute on function private.check_slot(public.mentors, public.session_packs, timestamptz, timestamptz)
  from public, anon, authenticated;

-- >>> sql/rules/booking/video.sql
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

-- >>> sql/rules/catalog.sql
-- Free seats, for the public catalog: capacity minus what private.seats_taken counts
-- (seats/capacity.sql, the rule the capacity trigger enforces).
create or replace function private.mentor_free_seats(mentor_id uuid)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select greatest(0, m.seat_capacity - private.seats_taken(m.id, private.clock_now()))
  from public.mentors m
  where m.id = mentor_free_seats.mentor_id
$$;
comment on function private.mentor_free_seats(uuid) is
  'Seats a mentor can still give: capacity - (active + grace + unexpired holds), never below 0.';
revoke execute on function private.mentor_free_seats(uuid) from public;
grant execute on function private.mentor_free_seats(uuid) to anon, authenticated, service_role;

-- PostgREST computed field: GET /rest/v1/mentors?select=*,free_seats
create or replace function public.free_seats(public.mentors)
returns integer
language sql
stable
set search_path = ''
as $$
  select private.mentor_free_seats($1.id)
$$;
comment on function public.free_seats(public.mentors) is
  'Computed field of mentors: seats still free (select=*,free_seats).';
revoke execute on function public.free_seats(public.mentors) from public;
grant execute on function public.free_seats(public.mentors) to anon, authenticated, service_role;

-- >>> sql/rules/clock.sql
-- The one clock every rule reads. Tests freeze it (private.clock, or the transaction-local
-- setting mentorships.now inside a pgTAP transaction); in production it is now().
-- plpgsql, not SQL: Postgres cannot inline a SQL function whose body has a subquery, and a SQL
-- function that is not inlined is parsed and planned again at each call site in every
-- transaction (~50 us, several times per booking); plpgsql keeps its plan for the connection.
-- No SET search_path (every name is qualified, and it is not a security definer): a SET clause
-- would change and restore the setting at each of its several calls per booking.
create or replace function private.clock_now()
returns timestamptz
language plpgsql
stable
as $$
declare
  fixed text := pg_catalog.current_setting('mentorships.now', true);
begin
  if fixed <> '' then
    return fixed::timestamptz;
  end if;
  return coalesce((select c.frozen_at from private.clock c where c.id), pg_catalog.now());
end
$$;
comment on function private.clock_now() is
  'Current instant for business rules: the frozen test clock when set, else now().';
-- The RPCs (security definers) call it as its owner; workers call it as the service role.
revoke execute on function private.clock_now() from public, anon, authenticated;
grant execute on function private.clock_now() to service_role;
grant select on table private.clock to service_role;

-- The same clock for clients: what "now" is for the rules (the dashboards split upcoming from
-- past sessions by it, so a frozen demo or test clock shows the same picture the rules see).
-- The definer reads the clock as its owner; the API's function is an invoker that calls it.
create or replace function private.platform_now()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$ select private.clock_now() $$;
comment on function private.platform_now() is 'private.clock_now() for public.platform_now().';
revoke execute on function private.platform_now() from public, anon;
grant execute on function private.platform_now() to authenticated, service_role;

create or replace function public.platform_now()
returns timestamptz
language sql
stable
set search_path = ''
as $$ select private.platform_now() $$;
comment on function public.platform_now() is
  'The instant the rules read as now (the frozen clock of a test or demo, else now()).';
revoke execute on function public.platform_now() from public, anon;
grant execute on function public.platform_now() to authenticated, service_role;

-- >>> sql/rules/discord_links.sql
-- Discord links: profiles.discord_user_id, where a person's Discord messages go, is written only
-- here. The services set it after Discord's OAuth2 flow has shown the account is the person's
-- (GET /oauth/discord/callback, as the service role: link_discord); the person may unlink
-- (unlink_discord). No client writes the column directly (sql/rls/profiles.sql); its form is
-- still checked by private.tg_profiles__check_input (sql/rules/input_checks.sql).

create or replace function private.link_discord(user_id uuid, discord_user_id text)
returns public.profiles
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.profiles;
begin
  perform from public.profiles x where x.id = link_discord.user_id for update;
  if not found then
    perform private.refuse(404, format('no profile with id %s', link_discord.user_id), details => 'user_id');
  end if;
  -- profiles.discord_user_id is unique: one Discord account, one profile. (A lost race is the
  -- unique violation, which PostgREST answers 409 too.)
  if exists (select from public.profiles x
              where x.discord_user_id = link_discord.discord_user_id and x.id <> link_discord.user_id) then
    perform private.refuse(409, 'this Discord account is linked to another profile',
      hint => 'Unlink it from that profile first (unlink_discord), or sign in to Discord with another account.',
      details => 'discord_user_id');
  end if;
  update public.profiles x set discord_user_id = link_discord.discord_user_id
   where x.id = link_discord.user_id
  returning * into p;
  return p;
end
$$;
comment on function private.link_discord(uuid, text) is
  'See public.link_discord: stores the Discord user id the OAuth2 flow verified for user_id.';
revoke execute on function private.link_discord(uuid, text) from public, anon, authenticated;
grant execute on function private.link_discord(uuid, text) to service_role;

create or replace function private.unlink_discord()
returns public.profiles
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  p public.profiles;
begin
  update public.profiles x set discord_user_id = null where x.id = me returning * into p;
  if not found then
    perform private.refuse(404, 'you have no profile', hint => 'Sign in with an account of this platform.');
  end if;
  return p;
end
$$;
comment on function private.unlink_discord() is
  'See public.unlink_discord: clears the caller''s own Discord user id.';
revoke execute on function private.unlink_discord() from public, anon;
grant execute on function private.unlink_discord() to authenticated;

-- >>> sql/rules/embeds.sql
-- Embeds a client needs, as PostgREST computed relationships: from a session, pack, seat or
-- order, `select=*,mentor(public_name,slug),student(display_name,time_zone)` returns the mentor's
-- row and the student's profile (each under its own RLS: a mentor sees their students, a student
-- their own profile, anyone an active mentor). Foreign keys would name the relationships after
-- the tables and add a key check to every booking (sessions link to their pack, not to the
-- people, and `profiles(...)` from a session follows canceled_by); a function costs writes
-- nothing. SQL, stable, invoker, no SET clause: PostgREST's query inlines it.

create or replace function public.mentor(public.sessions)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.sessions) is
  'The session''s mentor, for embedding: sessions?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.sessions) from public, anon;
grant execute on function public.mentor(public.sessions) to authenticated, service_role;

create or replace function public.student(public.sessions)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.sessions) is
  'The session''s student (their profile), for embedding: sessions?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.sessions) from public, anon;
grant execute on function public.student(public.sessions) to authenticated, service_role;

create or replace function public.mentor(public.session_packs)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.session_packs) is
  'The pack''s mentor, for embedding: session_packs?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.session_packs) from public, anon;
grant execute on function public.mentor(public.session_packs) to authenticated, service_role;

create or replace function public.student(public.session_packs)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.session_packs) is
  'The pack''s student (their profile), for embedding: session_packs?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.session_packs) from public, anon;
grant execute on function public.student(public.session_packs) to authenticated, service_role;

create or replace function public.mentor(public.seat_reservations)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.seat_reservations) is
  'The seat''s mentor, for embedding: seat_reservations?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.seat_reservations) from public, anon;
grant execute on function public.mentor(public.seat_reservations) to authenticated, service_role;

create or replace function public.student(public.seat_reservations)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.seat_reservations) is
  'The seat''s student (their profile), for embedding: seat_reservations?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.seat_reservations) from public, anon;
grant execute on function public.student(public.seat_reservations) to authenticated, service_role;

create or replace function public.mentor(public.orders)
returns setof public.mentors
rows 1
language sql
stable
as $$
  select m.* from public.mentors m where m.id = $1.mentor_id
$$;
comment on function public.mentor(public.orders) is
  'The order''s mentor, for embedding: orders?select=*,mentor(public_name,slug,time_zone).';
revoke execute on function public.mentor(public.orders) from public, anon;
grant execute on function public.mentor(public.orders) to authenticated, service_role;

create or replace function public.student(public.orders)
returns setof public.profiles
rows 1
language sql
stable
as $$
  select p.* from public.profiles p where p.id = $1.student_id
$$;
comment on function public.student(public.orders) is
  'The order''s student (their profile), for embedding: orders?select=*,student(display_name,time_zone).';
revoke execute on function public.student(public.orders) from public, anon;
grant execute on function public.student(public.orders) to authenticated, service_role;

-- >>> sql/rules/error_reports.sql
-- Error reports (private.error_reports): client-side errors the services' POST /errors passes on,
-- and the services' own unhandled errors (source 'server'). The services call report_error as
-- the service role; every check of a report is here (required message, kinds, lengths, size), and
-- tokens and keys are scrubbed here before anything is stored, so no caller can skip either.
-- Admins read the newest reports (error_reports). The job prune-error-reports (jobs.sql) keeps
-- the table bounded.

-- Tokens and keys in free text, replaced by [redacted]: JWTs (three base64url parts, the first
-- "eyJ"), "Bearer <token>", key=value pairs of secret-looking names (apikey=, access_token=,
-- password=, ... as in a URL's query string), "name": "value" pairs of those names (JSON), and
-- provider keys (sk_..., rk_..., whsec_..., sb_secret_...). Backslashes and quotes end a value,
-- so scrubbing a JSON document's text leaves it JSON.
create or replace function private.scrub_secrets(value text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(value,
    'eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*', '[redacted]', 'g'),
    '(bearer)\s+[A-Za-z0-9._~+/=-]+', '\1 [redacted]', 'gi'),
    '((apikey|api_key|access_token|refresh_token|id_token|token|client_secret|secret|password|code)=)[^&\s"''#\\]+',
    '\1[redacted]', 'gi'),
    '("(apikey|api_key|authorization|access_token|refresh_token|id_token|token|client_secret|secret|password)"\s*:\s*")[^"\\]*',
    '\1[redacted]', 'gi'),
    '\m(sk|rk|whsec|sb_secret)_[A-Za-z0-9_]{6,}', '[redacted]', 'g')
$$;
comment on function private.scrub_secrets(text) is
  'value with JWTs, Bearer tokens, secret-named key=value and "key": "value" pairs (apikey, token, password, ...) and provider keys (sk_, rk_, whsec_, sb_secret_) replaced by [redacted].';
revoke execute on function private.scrub_secrets(text) from public, anon, authenticated;
grant execute on function private.scrub_secrets(text) to service_role;

-- One text field of a report: null or a string of at most max_length characters; control
-- characters other than line breaks and tabs refused where `lines` (a stack), all of them
-- elsewhere. A 422 naming the field otherwise.
create or replace function private.report_text(report jsonb, field text, max_length integer,
                                               lines boolean default false)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v jsonb := report -> field;
  t text;
  hint text := format('Send %s as text of at most %s characters%s.', field, max_length,
                      case when lines then ' (line breaks and tabs are fine)' else ', on one line' end);
begin
  if v is null or jsonb_typeof(v) = 'null' then
    return null;
  end if;
  if jsonb_typeof(v) <> 'string' then
    perform private.refuse(422, format('%s: expected text: got a %s', field, jsonb_typeof(v)), hint, field);
  end if;
  t := v #>> '{}';
  if length(t) > max_length then
    perform private.refuse(422, format('%s is longer than %s characters (%s)', field, max_length, length(t)), hint, field);
  end if;
  if (lines and t ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]') or (not lines and t ~ '[\x01-\x1f\x7f]') then
    perform private.refuse(422, format('%s contains control characters', field), hint, field);
  end if;
  return nullif(btrim(t), '');
end
$$;
comment on function private.report_text(jsonb, text, integer, boolean) is
  'report->field as text (null when absent), or a 422 naming field: not a string, over max_length characters, control characters (line breaks and tabs allowed when lines).';
revoke execute on function private.report_text(jsonb, text, integer, boolean) from public, anon, authenticated;
grant execute on function private.report_text(jsonb, text, integer, boolean) to service_role;

create or replace function private.report_error(report jsonb, source text)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  keys constant text[] := array['message', 'stack', 'url', 'user_agent', 'release', 'context'];
  example constant text := '{"message": "TypeError: x is undefined", "stack": "...", "url": "https://...", "release": "1.4.2"}';
  extra text;
  msg text;
  ctx jsonb;
  rid text := private.current_request_id();  -- sql/rules/request_ids.sql
  new_id bigint;
begin
  if source is null or source not in ('client', 'server') then
    perform private.refuse(422, format('source: %s is not client or server', private.quoted(source)),
      'Send source as "client" or "server".', 'source');
  end if;
  if report is null or jsonb_typeof(report) <> 'object' then
    perform private.refuse(422, format('report: expected a JSON object such as %s: got %s', example,
                                       coalesce(jsonb_typeof(report), 'nothing')),
      format('Send a JSON object such as %s.', example), 'report');
  end if;
  if octet_length(report::text) > 16384 then
    perform private.refuse(413, format('report: larger than 16384 bytes (%s)', octet_length(report::text)),
      'Send at most 16 KiB: shorten the stack or the context.', 'report');
  end if;
  select k into extra from jsonb_object_keys(report) k where k <> all (keys) order by k limit 1;
  if extra is not null then
    perform private.refuse(422, format('%s: unknown key: expected only %s', private.printable(extra, 60),
                                       array_to_string(keys, ', ')),
      format('Send only %s, as in %s.', array_to_string(keys, ', '), example), private.printable(extra, 60));
  end if;
  msg := private.report_text(report, 'message', 2000, lines => true);
  if msg is null then
    perform private.refuse(422, 'message is required',
      'Send message as text of at most 2000 characters: the error''s message.', 'message');
  end if;
  ctx := report -> 'context';
  if ctx is not null and jsonb_typeof(ctx) = 'null' then
    ctx := null;
  end if;
  if ctx is not null and jsonb_typeof(ctx) <> 'object' then
    perform private.refuse(422, format('context: expected a JSON object: got a %s', jsonb_typeof(ctx)),
      'Send context as a JSON object of at most 4096 bytes, or leave it out.', 'context');
  end if;
  if octet_length(ctx::text) > 4096 then
    perform private.refuse(422, format('context is larger than 4096 bytes (%s)', octet_length(ctx::text)),
      'Send context as a JSON object of at most 4096 bytes, or leave it out.', 'context');
  end if;
  if rid !~ '^[A-Za-z0-9._-]{8,128}$' then
    rid := null;
  end if;
  insert into private.error_reports (source, message, stack, url, user_agent, release, context, request_id, created_at)
  values (report_error.source,
          left(private.scrub_secrets(msg), 2000),
          left(private.scrub_secrets(private.report_text(report, 'stack', 8000, lines => true)), 8000),
          left(private.scrub_secrets(private.report_text(report, 'url', 2000)), 2000),
          left(private.scrub_secrets(private.report_text(report, 'user_agent', 500)), 500),
          left(private.scrub_secrets(private.report_text(report, 'release', 100)), 100),
          private.scrub_secrets(ctx::text)::jsonb,
          rid,
          private.clock_now())
  returning id into new_id;
  return new_id;
end
$$;
comment on function private.report_error(jsonb, text) is 'See public.report_error.';
revoke execute on function private.report_error(jsonb, text) from public, anon, authenticated;
grant execute on function private.report_error(jsonb, text) to service_role;

create or replace function public.report_error(report jsonb default null, source text default 'client')
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  return jsonb_build_object('id', private.report_error(report, source));
end
$$;
comment on function public.report_error(jsonb, text) is
$$Service role (the services' POST /errors, and their unhandled errors with source "server"): stores an error report, its tokens and keys scrubbed (JWTs, Bearer tokens, apikey= and other secret-named values, sk_/whsec_ keys), with the request's X-Request-Id. Returns {"id": <report number>}.
Arguments: report, a JSON object of message (required, text of at most 2000 characters), stack (8000), url (2000), user_agent (500), release (100) and context (a JSON object of at most 4096 bytes), at most 16384 bytes in all; source ("client" or "server").
Errors: 413 PT413 the report is larger than 16384 bytes; 422 PT422 report not an object, an unknown key, message missing, a field of the wrong kind or too long, control characters, source not client or server (details names the field).$$;
revoke execute on function public.report_error(jsonb, text) from public, anon, authenticated;
grant execute on function public.report_error(jsonb, text) to service_role;

create or replace function private.list_error_reports(max_rows integer, before_id bigint)
returns setof private.error_reports
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.is_admin() or (select auth.role()) = 'service_role') then
    perform private.refuse(403, 'only admins read the error reports', hint => 'Sign in with an admin account.');
  end if;
  return query
    select * from private.error_reports e
     where before_id is null or e.id < before_id
     order by e.id desc
     limit max_rows;
end
$$;
comment on function private.list_error_reports(integer, bigint) is 'See public.error_reports.';
revoke execute on function private.list_error_reports(integer, bigint) from public, anon;
grant execute on function private.list_error_reports(integer, bigint) to authenticated, service_role;

create or replace function public.error_reports(max_rows text default null, before_id text default null)
returns table (id bigint, source text, message text, stack text, url text, user_agent text, release text,
               context jsonb, request_id text, created_at timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query
    select e.id, e.source, e.message, e.stack, e.url, e.user_agent, e.release, e.context, e.request_id, e.created_at
      from private.list_error_reports(
             private.integer_arg(coalesce(max_rows, '50'), 'max_rows', 1, 500),
             case when before_id is null then null
                  else private.integer_arg(before_id, 'before_id', 1, 2147483647)::bigint end) e;
end
$$;
comment on function public.error_reports(text, text) is
$$Admins: the newest error reports first (client-side errors sent to POST /errors and the services' unhandled errors), scrubbed of tokens and keys. Page with before_id (the smallest id of the previous page).
Arguments: max_rows (1 to 500, default 50), before_id (a report number).
Errors: 403 PT403 not an admin; 422 PT422 max_rows or before_id malformed.$$;
revoke execute on function public.error_reports(text, text) from public, anon;
grant execute on function public.error_reports(text, text) to authenticated, service_role;

-- >>> sql/rules/errors.sql
-- How the rules refuse, and how the public RPCs read their arguments.
--
-- A refusal is raised as PostgREST's SQLSTATE 'PGRST': the message is the JSON body
-- {code, message, details, hint} and the detail names the HTTP status. PostgREST then answers
-- that status with its standard reason phrase. (A custom 'PT422' code would put the message into
-- the status line, and with it whatever user text the message quotes: PostgREST issue #2176.)
-- code is 'PT' || status, as before; details names the offending field where there is one;
-- hint says what to do. Text is stripped of control characters and kept short, so nothing a
-- user typed can shape an answer.

-- Text a message may carry: control characters become spaces, at most max_length characters.
create or replace function private.printable(value text, max_length integer default 500)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case
    when length(v) > max_length then left(v, max_length - 1) || '…'
    else v
  end
  from (select regexp_replace(value, '[[:cntrl:]\u0080-\u009f\u2028\u2029]', ' ', 'g') as v) x
$$;
comment on function private.printable(text, integer) is
  'value with control characters replaced by spaces, shortened to max_length characters (… marks a cut).';
revoke execute on function private.printable(text, integer) from public;
grant execute on function private.printable(text, integer) to anon, authenticated, service_role;

-- A user-supplied value quoted in a message: "value", at most 60 characters.
create or replace function private.quoted(value text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when value is null then 'null' else '"' || private.printable(value, 60) || '"' end
$$;
comment on function private.quoted(text) is
  'value in double quotes for a message: control characters removed, at most 60 characters; null as null.';
revoke execute on function private.quoted(text) from public;
grant execute on function private.quoted(text) to anon, authenticated, service_role;

-- Raises the refusal; never returns.
create or replace function private.refuse(status integer, message text, hint text default null,
                                          details text default null)
returns void
language plpgsql
volatile
parallel safe
set search_path = ''
as $$
begin
  raise sqlstate 'PGRST' using
    message = json_build_object(
      'code', 'PT' || status,
      'message', private.printable(message),
      'details', private.printable(details),
      'hint', private.printable(hint))::text,
    detail = json_build_object('status', status, 'headers', json_build_object())::text;
end
$$;
comment on function private.refuse(integer, text, text, text) is
  'Raises a refusal PostgREST answers with HTTP status `status` (its standard reason phrase) and the body {code: PT<status>, message, details, hint}. details names the offending field.';
revoke execute on function private.refuse(integer, text, text, text) from public;
grant execute on function private.refuse(integer, text, text, text) to anon, authenticated, service_role;

-- The arguments of the public RPCs arrive as text and are read here, so that a bad value is a
-- 422 naming its field and the accepted form instead of a cast error that names neither.

create or replace function private.uuid_arg(value text, field text, required boolean default true)
returns uuid
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is null then
    if required then
      perform private.refuse(422, format('%s is required', field),
        format('Send %s as a UUID such as "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b".', field), field);
    end if;
    return null;
  end if;
  if value !~* '^\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*$' then
    perform private.refuse(422, format('%s: %s is not a UUID', field, private.quoted(value)),
      format('Send %s as a UUID such as "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b".', field), field);
  end if;
  return btrim(value)::uuid;
end
$$;
comment on function private.uuid_arg(text, text, boolean) is
  'value as a uuid; a 422 naming field when it is missing (and required) or not a UUID.';
revoke execute on function private.uuid_arg(text, text, boolean) from public;
grant execute on function private.uuid_arg(text, text, boolean) to anon, authenticated, service_role;

-- An instant: ISO 8601 with a date, a time and an explicit UTC offset (or Z), between the years
-- 2000 and 2199. Postgres' own words ('now', 'tomorrow', 'epoch', 'infinity') and times without
-- an offset (which would silently be read as UTC) are refused.
create or replace function private.timestamptz_arg(value text, field text, required boolean default true)
returns timestamptz
language plpgsql
stable
parallel safe
set search_path = ''
as $$
declare
  form constant text := 'an ISO 8601 instant with its UTC offset, such as "2026-12-03T15:00:00+01:00" or "2026-12-03T14:00:00Z"';
  t timestamptz;
begin
  if value is null then
    if required then
      perform private.refuse(422, format('%s is required', field), format('Send %s as %s.', field, form), field);
    end if;
    return null;
  end if;
  if value !~ '^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)\s*$' then
    perform private.refuse(422, format('%s: %s is not an instant with a UTC offset', field, private.quoted(value)),
      format('Send %s as %s.', field, form), field);
  end if;
  begin
    t := value::timestamptz;
  exception when datetime_field_overflow or invalid_datetime_format or invalid_time_zone_displacement_value then
    perform private.refuse(422, format('%s: %s is not a valid date and time', field, private.quoted(value)),
      format('Send %s as %s.', field, form), field);
  end;
  if t < '2000-01-01 00:00:00+00' or t >= '2200-01-01 00:00:00+00' then
    perform private.refuse(422, format('%s: %s is outside the years 2000 to 2199', field, private.quoted(value)),
      format('Send %s as %s.', field, form), field);
  end if;
  return t;
end
$$;
comment on function private.timestamptz_arg(text, text, boolean) is
  'value as a timestamptz: ISO 8601 with an offset, years 2000 to 2199; a 422 naming field otherwise.';
revoke execute on function private.timestamptz_arg(text, text, boolean) from public;
grant execute on function private.timestamptz_arg(text, text, boolean) to anon, authenticated, service_role;

-- A whole number within [lo, hi], read without overflow.
create or replace function private.integer_arg(value text, field text, lo integer, hi integer)
returns integer
language plpgsql
stable
parallel safe
set search_path = ''
as $$
declare
  n numeric;
begin
  if value is null then
    perform private.refuse(422, format('%s is required', field),
      format('Send %s as a whole number from %s to %s.', field, lo, hi), field);
  end if;
  if value !~ '^\s*[+-]?\d{1,30}\s*$' then
    perform private.refuse(422, format('%s: %s is not a whole number', field, private.quoted(value)),
      format('Send %s as a whole number from %s to %s.', field, lo, hi), field);
  end if;
  n := value::numeric;
  if n < lo or n > hi then
    perform private.refuse(422, format('%s: %s is outside %s to %s', field, private.quoted(value), lo, hi),
      format('Send %s as a whole number from %s to %s.', field, lo, hi), field);
  end if;
  return n::integer;
end
$$;
comment on function private.integer_arg(text, text, integer, integer) is
  'value as an integer in [lo, hi]; a 422 naming field when missing, not a whole number or out of range.';
revoke execute on function private.integer_arg(text, text, integer, integer) from public;
grant execute on function private.integer_arg(text, text, integer, integer) to authenticated, service_role;

-- Free text (a reason, notes): at most max_length characters; no control characters but line
-- breaks and tabs. Empty or blank is null.
create or replace function private.text_arg(value text, field text, max_length integer, required boolean default false)
returns text
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is null or btrim(value) = '' then
    if required then
      perform private.refuse(422, format('%s is required', field),
        format('Send %s as text of at most %s characters.', field, max_length), field);
    end if;
    return null;
  end if;
  if length(value) > max_length then
    perform private.refuse(422, format('%s is longer than %s characters (%s)', field, max_length, length(value)),
      format('Send %s as text of at most %s characters.', field, max_length), field);
  end if;
  if value ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' then
    perform private.refuse(422, format('%s contains control characters', field),
      format('Send %s as plain text (line breaks and tabs are fine).', field), field);
  end if;
  return value;
end
$$;
comment on function private.text_arg(text, text, integer, boolean) is
  'value as free text: blank is null, at most max_length characters, no control characters but line breaks and tabs; a 422 naming field otherwise.';
revoke execute on function private.text_arg(text, text, integer, boolean) from public;
grant execute on function private.text_arg(text, text, integer, boolean) to authenticated, service_role;

-- >>> sql/rules/google/busy.sql
-- Google Calendar, busy times in: the sync worker (`python -m sync.gcal`) claims mentors whose
-- sync is due, lists their busy calendars' events at Google and hands the result back in one
-- call that replaces their busy intervals in one transaction (availability never sees half a
-- sync), or reports a failure (back-off per mentor; invalid_grant: the grant is marked revoked
-- and the mentor told). Fail closed: a connected mentor whose last successful sync is older than
-- platform_settings.calendar_stale_after_minutes, or whose grant was revoked, offers no slots
-- (availability.sql) and is not bookable (booking/slots.sql), through private.calendar_closed.
-- The public RPCs are beside this file (busy_api.sql).
--
--   connect --> due (never synced: closed) --claim--> syncing --calendar_synced--> fresh, due again later
--                                                       |-----calendar_sync_failed--> due after a back-off
--                                                       '-----invalid_grant-------> revoked (closed until reconnect)

-- Why a mentor offers no slots now (null: they do). One look-up of the sync state by primary key
-- (no row: not connected, nothing to wait for) and the one settings row.
create or replace function private.calendar_closed(for_mentor_id uuid, now_ timestamptz)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
  stale_after interval;
begin
  select * into s from private.calendar_sync_state x where x.mentor_id = for_mentor_id;
  if not found then
    return null;
  end if;
  if s.grant_revoked then
    return 'the mentor''s Google Calendar connection stopped working, so their busy times are unknown';
  end if;
  if s.last_synced_at is null then
    return 'the mentor''s Google Calendar has not been synced yet, so their busy times are unknown';
  end if;
  stale_after := make_interval(mins => (select p.calendar_stale_after_minutes from public.platform_settings p where p.id));
  if s.last_synced_at <= now_ - stale_after then
    return format('the mentor''s Google Calendar was last synced at %s UTC, more than %s minutes ago, so their busy times are unknown',
                  to_char(s.last_synced_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), extract(epoch from stale_after)::integer / 60);
  end if;
  return null;
end
$$;
comment on function private.calendar_closed(uuid, timestamptz) is
  'Why the mentor''s slots are closed at now_ (Google Calendar connected but its sync stale, never done, or the grant revoked); null when they are not.';
revoke execute on function private.calendar_closed(uuid, timestamptz) from public, anon, authenticated;
grant execute on function private.calendar_closed(uuid, timestamptz) to service_role;

-- --- connecting and choosing start the sync ----------------------------------------------------

-- A (re)connect: the sync state is due at once and closed until the first sync succeeds (a new
-- grant may be another Google account: the old tokens and intervals are not its).
create or replace function private.tg_google_credentials__sync_state()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.calendar_sync_state as s (mentor_id, next_sync_at)
  values (new.mentor_id, private.clock_now())
  on conflict (mentor_id) do update
    set next_sync_at = excluded.next_sync_at, last_synced_at = null, failures = 0, last_error = null,
        claimed_by = null, locked_until = null, grant_revoked = false;
  delete from private.calendar_sync_calendars c where c.mentor_id = new.mentor_id;
  return null;
end
$$;
comment on function private.tg_google_credentials__sync_state() is
  'A stored grant (connect or reconnect): the mentor''s calendar sync is due at once, closed until it succeeds, and starts from full lists.';
revoke execute on function private.tg_google_credentials__sync_state() from public, anon, authenticated;

drop trigger if exists _100_sync_state on private.google_credentials;
create trigger _100_sync_state
  after insert or update of refresh_token_ciphertext on private.google_credentials
  for each row execute function private.tg_google_credentials__sync_state();

-- A disconnect: the per-calendar tokens go with the grant (the state and intervals already go).
create or replace function private.tg_google_credentials__forget_tokens()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from private.calendar_sync_calendars c where c.mentor_id = old.mentor_id;
  return null;
end
$$;
comment on function private.tg_google_credentials__forget_tokens() is 'A removed grant: its calendars'' sync tokens are deleted.';
revoke execute on function private.tg_google_credentials__forget_tokens() from public, anon, authenticated;

drop trigger if exists _110_forget_tokens on private.google_credentials;
create trigger _110_forget_tokens
  after delete on private.google_credentials
  for each row execute function private.tg_google_credentials__forget_tokens();

-- The mentor chose other busy calendars: sync at once (the new ones are listed; the intervals of
-- those no longer busy go with that sync).
create or replace function private.tg_mentor_calendars__sync_due()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.calendar_sync_state s set next_sync_at = private.clock_now()
   where s.mentor_id in (select distinct c.mentor_id from changed c) and s.next_sync_at > private.clock_now();
  return null;
end
$$;
comment on function private.tg_mentor_calendars__sync_due() is 'Busy calendars chosen anew: the mentor''s sync is due at once.';
revoke execute on function private.tg_mentor_calendars__sync_due() from public, anon, authenticated;

drop trigger if exists _100_sync_due on public.mentor_calendars;
create trigger _100_sync_due
  after update on public.mentor_calendars
  referencing new table as changed
  for each statement execute function private.tg_mentor_calendars__sync_due();

-- --- the worker's calls --------------------------------------------------------------------------

-- Claims up to max_mentors whose sync is due (rows another worker holds are skipped, not waited
-- for) under a lease, with what the worker needs: the sealed grant, and per busy calendar either
-- its sync token (incremental) or, for a full list, the window to list: from a day back to the
-- mentor's booking horizon plus 30 days. A token whose window no longer reaches a day past the
-- horizon is dropped (a full list of the new window), so the horizon is always covered.
create or replace function private.claim_calendar_syncs(worker text, max_mentors integer, lease_seconds integer)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, calendars jsonb)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
begin
  return query
    with picked as (
      select s.mentor_id from private.calendar_sync_state s
       where s.next_sync_at <= now_ and not s.grant_revoked
         and (s.locked_until is null or s.locked_until <= now_)
       order by s.next_sync_at, s.mentor_id
       limit max_mentors
         for update skip locked),
    claimed as (
      update private.calendar_sync_state s
         set claimed_by = claim_calendar_syncs.worker, last_attempt_at = now_,
             locked_until = now_ + make_interval(secs => claim_calendar_syncs.lease_seconds)
        from picked p
       where s.mentor_id = p.mentor_id
      returning s.mentor_id)
    select c.mentor_id, private.base64_text(g.refresh_token_ciphertext), g.key_version,
           coalesce((
             select jsonb_agg(jsonb_build_object(
                      'calendar_id', mc.calendar_id,
                      'busy', mc.counts_as_busy,
                      'time_zone', coalesce(mc.time_zone, m.time_zone),
                      'sync_token', case when t.window_ends_at >= now_ + make_interval(days => m.booking_horizon_days + 1)
                                         then t.sync_token end,
                      'time_min', now_ - interval '1 day',
                      'time_max', now_ + make_interval(days => m.booking_horizon_days + 30))
                    order by mc.calendar_id)
               from public.mentor_calendars mc
               left join private.calendar_sync_calendars t
                 on t.mentor_id = mc.mentor_id and t.calendar_id = mc.calendar_id
              where mc.mentor_id = c.mentor_id and (mc.counts_as_busy or mc.receives_events)), '[]'::jsonb)
      from claimed c
      join private.google_credentials g on g.mentor_id = c.mentor_id
      join public.mentors m on m.id = c.mentor_id
     order by c.mentor_id;
end
$$;
comment on function private.claim_calendar_syncs(text, integer, integer) is 'See public.claim_calendar_syncs.';
revoke execute on function private.claim_calendar_syncs(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_syncs(text, integer, integer) to service_role;

-- The claim a report must hold: this worker's, not taken over since. Locks the state row.
create or replace function private.held_calendar_claim(for_mentor_id uuid, worker text)
returns private.calendar_sync_state
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
begin
  select * into s from private.calendar_sync_state x where x.mentor_id = for_mentor_id for update;
  if not found then
    perform private.refuse(404, format('mentor %s has no Google Calendar connected', for_mentor_id),
      hint => 'The mentor disconnected meanwhile: nothing to report.');
  end if;
  if s.claimed_by is distinct from worker or s.locked_until is null then
    perform private.refuse(409, format('the calendar sync of mentor %s is not claimed by %s', for_mentor_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out and another worker took it, or it was reported already: drop this result.');
  end if;
  return s;
end
$$;
comment on function private.held_calendar_claim(uuid, text) is 'The mentor''s sync state, locked, when worker holds its claim; 404/409 otherwise.';
revoke execute on function private.held_calendar_claim(uuid, text) from public, anon, authenticated;
grant execute on function private.held_calendar_claim(uuid, text) to service_role;

-- A whole sync of one mentor, in one transaction. Per busy calendar the worker listed:
--   {calendar_id, sync_token (the new nextSyncToken), full (true: a full list of the window
--    time_min..time_max, which replaces the calendar's intervals; false: the changes since the
--    token), changed_event_ids (incremental: every event id Google returned), intervals
--    [{event_id, starts_at, ends_at}] (the busy ones among them)}
-- Intervals of calendars no longer busy go. The mentor is fresh (last_synced_at) only when every
-- busy calendar has been listed; a calendar chosen after the claim makes the sync due again at once.
create or replace function private.calendar_synced(for_mentor_id uuid, worker text, calendars jsonb)
returns table (mentor_id uuid, busy_intervals integer, last_synced_at timestamptz, next_sync_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  -- polling, the push safety net, or 0 when a change was notified meanwhile (channels.sql)
  interval_seconds integer := private.calendar_next_sync_in(for_mentor_id);
  cal record;
  busy text[];
  listed text[];
  claimed_at timestamptz;
  complete boolean;
begin
  claimed_at := (private.held_calendar_claim(for_mentor_id, worker)).last_attempt_at;
  busy := array(select mc.calendar_id from public.mentor_calendars mc
                 where mc.mentor_id = for_mentor_id and mc.counts_as_busy);
  listed := array(select mc.calendar_id from public.mentor_calendars mc
                   where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events));
  begin
    for cal in
      select c.calendar_id, c.sync_token, coalesce(c."full", false) as is_full, c.time_min, c.time_max,
             coalesce(c.changed_event_ids, '[]') as changed_event_ids, coalesce(c.intervals, '[]') as intervals,
             coalesce(c.ours, '[]') as ours, coalesce(c.cancelled_event_ids, '[]') as cancelled_event_ids
        from pg_catalog.jsonb_to_recordset(calendars)
               as c (calendar_id text, sync_token text, "full" boolean, time_min timestamptz, time_max timestamptz,
                     changed_event_ids jsonb, intervals jsonb, ours jsonb, cancelled_event_ids jsonb)
    loop
      if cal.calendar_id is null or cal.sync_token is null or (cal.is_full and (cal.time_min is null or cal.time_max is null)) then
        perform private.refuse(422, 'each calendar needs calendar_id and sync_token, and a full one time_min and time_max',
          hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids, intervals}].', details => 'calendars');
      end if;
      continue when not (cal.calendar_id = any(listed));  -- no longer listed: its state goes below
      -- Our session events as Google has them now (changes.sql): a deletion or a move made in Google.
      perform private.calendar_changes_seen(for_mentor_id, cal.calendar_id, cal.is_full, cal.time_min, cal.time_max,
                                            cal.ours, cal.cancelled_event_ids, claimed_at);
      if cal.calendar_id = any(busy) then
        if cal.is_full then
          delete from private.calendar_busy_intervals b
           where b.mentor_id = for_mentor_id and b.calendar_id = cal.calendar_id;
        else
          delete from private.calendar_busy_intervals b
           where b.mentor_id = for_mentor_id and b.calendar_id = cal.calendar_id
             and b.source_event_id in (select pg_catalog.jsonb_array_elements_text(cal.changed_event_ids));
        end if;
        insert into private.calendar_busy_intervals (mentor_id, calendar_id, source_event_id, starts_at, ends_at, synced_at)
        select for_mentor_id, cal.calendar_id, i.event_id, i.starts_at, i.ends_at, now_
          from pg_catalog.jsonb_to_recordset(cal.intervals) as i (event_id text, starts_at timestamptz, ends_at timestamptz)
         where i.ends_at > i.starts_at;
      end if;
      if cal.is_full then
        insert into private.calendar_sync_calendars as t (mentor_id, calendar_id, sync_token, window_starts_at, window_ends_at, last_synced_at)
        values (for_mentor_id, cal.calendar_id, cal.sync_token, cal.time_min, cal.time_max, now_)
        on conflict on constraint calendar_sync_calendars_pkey do update
          set sync_token = excluded.sync_token, last_synced_at = excluded.last_synced_at,
              window_starts_at = excluded.window_starts_at, window_ends_at = excluded.window_ends_at;
      else
        -- (no row: its token went meanwhile, a reconnect; the calendar is listed in full next)
        update private.calendar_sync_calendars t set sync_token = cal.sync_token, last_synced_at = now_
         where t.mentor_id = for_mentor_id and t.calendar_id = cal.calendar_id;
      end if;
    end loop;
  exception
    when data_exception or integrity_constraint_violation then
      perform private.refuse(422, format('calendars is malformed (%s)', sqlerrm),
        hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids: [ids], intervals: [{event_id, starts_at, ends_at}]}].',
        details => 'calendars');
  end;
  delete from private.calendar_busy_intervals b
   where b.mentor_id = for_mentor_id and (b.calendar_id is null or not (b.calendar_id = any(busy)));
  delete from private.calendar_sync_calendars t
   where t.mentor_id = for_mentor_id and not (t.calendar_id = any(listed));
  complete := not exists (select from pg_catalog.unnest(busy) b (id)
                           where not exists (select from private.calendar_sync_calendars t
                                              where t.mentor_id = for_mentor_id and t.calendar_id = b.id));
  return query
    update private.calendar_sync_state s
       set last_synced_at = case when complete then now_ else s.last_synced_at end,
           next_sync_at = case when complete then now_ + make_interval(secs => interval_seconds) else now_ end,
           failures = 0, last_error = null, claimed_by = null, locked_until = null
     where s.mentor_id = for_mentor_id
    returning s.mentor_id,
              (select count(*)::integer from private.calendar_busy_intervals b where b.mentor_id = for_mentor_id),
              s.last_synced_at, s.next_sync_at;
end
$$;
comment on function private.calendar_synced(uuid, text, jsonb) is 'See public.calendar_synced.';
revoke execute on function private.calendar_synced(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function private.calendar_synced(uuid, text, jsonb) to service_role;

-- Google answered invalid_grant (the busy sync or a session event): the grant is marked revoked,
-- the mentor's sync stops and their slots stay closed until they reconnect, and they are told
-- once per grant (email and Discord, with a link to reconnect).
create or replace function private.google_grant_revoked(for_mentor_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  g private.google_credentials;
begin
  update private.google_credentials x set revoked_at = coalesce(x.revoked_at, private.clock_now())
   where x.mentor_id = for_mentor_id
  returning * into g;
  if not found then
    return;
  end if;
  update private.calendar_sync_state x set grant_revoked = true where x.mentor_id = for_mentor_id;
  perform private.notify(array[for_mentor_id], 'calendar_disconnected',
    format('calendar_disconnected:%s:%s', for_mentor_id, extract(epoch from g.connected_at)),
    jsonb_build_object('mentor_id', for_mentor_id, 'revoked_at', g.revoked_at, 'connected_at', g.connected_at));
end
$$;
comment on function private.google_grant_revoked(uuid) is
  'Google refused the mentor''s grant (invalid_grant): marked revoked, the sync stopped (slots closed), the mentor told once per grant.';
revoke execute on function private.google_grant_revoked(uuid) from public, anon, authenticated;

-- A failed sync: back-off per mentor, d = min(base * 2^(failures - 1), max) seconds with its second
-- half drawn at random (private.message_retry_delay, as the outbox's). invalid_grant: Google will
-- not take the grant again; it is marked revoked, the sync stops, the mentor's slots stay closed,
-- and the mentor is told once per grant (email and Discord, with a link to reconnect).
create or replace function private.calendar_sync_failed(for_mentor_id uuid, worker text, error text, grant_revoked boolean)
returns private.calendar_sync_state
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  s private.calendar_sync_state;
begin
  s := private.held_calendar_claim(for_mentor_id, worker);
  select * into p from public.platform_settings x where x.id;
  update private.calendar_sync_state x
     set failures = x.failures + 1, last_error = left(calendar_sync_failed.error, 2000),
         claimed_by = null, locked_until = null,
         grant_revoked = x.grant_revoked or calendar_sync_failed.grant_revoked,
         next_sync_at = now_ + private.message_retry_delay(x.failures + 1, p.calendar_retry_base_seconds,
                                                           p.calendar_retry_max_seconds)
   where x.mentor_id = for_mentor_id
  returning * into s;
  if calendar_sync_failed.grant_revoked then
    perform private.google_grant_revoked(for_mentor_id);
  end if;
  return s;
end
$$;
comment on function private.calendar_sync_failed(uuid, text, text, boolean) is 'See public.calendar_sync_failed.';
revoke execute on function private.calendar_sync_failed(uuid, text, text, boolean) from public, anon, authenticated;
grant execute on function private.calendar_sync_failed(uuid, text, text, boolean) to service_role;

-- What admins (and the service role) see of every connected mentor's sync.
create or replace function private.calendar_sync_status()
returns table (mentor_id uuid, public_name text, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.is_admin() or (select auth.role()) = 'service_role') then
    perform private.refuse(403, 'only admins see every mentor''s calendar sync', hint => 'Sign in with an admin account.');
  end if;
  return query
    select s.mentor_id, m.public_name, g.connected_at, g.revoked_at, s.last_synced_at, s.next_sync_at,
           s.failures, s.last_error, private.calendar_closed(s.mentor_id, private.clock_now())
      from private.calendar_sync_state s
      join public.mentors m on m.id = s.mentor_id
      left join private.google_credentials g on g.mentor_id = s.mentor_id
     order by s.grant_revoked desc, s.last_synced_at nulls first, s.mentor_id;
end
$$;
comment on function private.calendar_sync_status() is 'See public.calendar_sync_status.';
revoke execute on function private.calendar_sync_status() from public, anon;
grant execute on function private.calendar_sync_status() to authenticated, service_role;

-- >>> sql/rules/google/busy_api.sql
-- Google Calendar, busy times in: the public RPCs the calendar sync calls with the service-role
-- key (claim_calendar_syncs, calendar_synced, calendar_sync_failed) and the admins' view
-- (calendar_sync_status). Each reads its arguments and calls its definer in busy.sql.

create or replace function public.claim_calendar_syncs(worker text default null, max_mentors text default null,
                                                       lease_seconds text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, calendars jsonb)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_calendar_syncs(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_mentors, '10'), 'max_mentors', 1, 500),
    private.integer_arg(coalesce(lease_seconds, '300'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_calendar_syncs(text, text, text) is
$$Service role (the calendar sync): claims up to max_mentors connected mentors whose sync is due (rows another worker holds are skipped), leased to worker until now + lease_seconds, and returns each with its sealed grant and the calendars to list, its busy ones and the one receiving session events: [{calendar_id, busy (false: listed only for our session events), time_zone, sync_token (null: list in full), time_min, time_max (the window of a full list)}].
Arguments: worker (text, at most 200 characters), max_mentors (1 to 500, default 10), lease_seconds (10 to 3600, default 300).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_calendar_syncs(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_calendar_syncs(text, text, text) to service_role;

create or replace function public.calendar_synced(for_mentor_id text default null, worker text default null,
                                                  calendars jsonb default null)
returns table (mentor_id uuid, busy_intervals integer, last_synced_at timestamptz, next_sync_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  if calendars is null or pg_catalog.jsonb_typeof(calendars) <> 'array' then
    perform private.refuse(422, 'calendars must be an array',
      hint => 'Send calendars as [{calendar_id, sync_token, full, time_min, time_max, changed_event_ids, intervals}].', details => 'calendars');
  end if;
  return query select * from private.calendar_synced(private.uuid_arg(for_mentor_id, 'for_mentor_id'),
    private.text_arg(worker, 'worker', 200, required => true), calendars);
end
$$;
comment on function public.calendar_synced(text, text, jsonb) is
$$Service role (the calendar sync): a claimed mentor's sync succeeded. In one transaction, per busy calendar: a full list replaces its busy intervals, an incremental one replaces those of the events it returned; the new sync tokens are kept; intervals of calendars no longer busy go; the mentor is fresh again (slots open) when every busy calendar was listed.
Per listed calendar also ours (our session events as Google has them) and cancelled_event_ids: an event of ours deleted or moved in Google, with no job of its session pending, flags the session (calendar_event_changes) and tells the mentor.
Arguments: for_mentor_id (UUID), worker (the claim's), calendars ([{calendar_id, sync_token, full, time_min, time_max, changed_event_ids: [event ids], intervals: [{event_id, starts_at, ends_at}], ours: [{event_id, starts_at, ends_at}], cancelled_event_ids: [event ids]}]).
Errors: 404 PT404 not connected; 409 PT409 the claim is not this worker's (lease ran out); 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.calendar_synced(text, text, jsonb) from public, anon, authenticated;
grant execute on function public.calendar_synced(text, text, jsonb) to service_role;

create or replace function public.calendar_sync_failed(for_mentor_id text default null, worker text default null,
                                                       error text default null, invalid_grant text default null)
returns table (mentor_id uuid, failures integer, next_sync_at timestamptz, grant_revoked boolean)
language plpgsql
volatile
set search_path = ''
as $$
declare
  s private.calendar_sync_state;
begin
  if invalid_grant is not null and lower(btrim(invalid_grant)) not in ('true', 'false') then
    perform private.refuse(422, format('invalid_grant: %s is not true or false', private.quoted(invalid_grant)),
      hint => 'Send invalid_grant as true or false.', details => 'invalid_grant');
  end if;
  s := private.calendar_sync_failed(private.uuid_arg(for_mentor_id, 'for_mentor_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(error, 'error', 10000, required => true),
    coalesce(lower(btrim(invalid_grant)) = 'true', false));
  return query select s.mentor_id, s.failures, s.next_sync_at, s.grant_revoked;
end
$$;
comment on function public.calendar_sync_failed(text, text, text, text) is
$$Service role (the calendar sync): a claimed mentor's sync failed; it is retried after a back-off (doubling per failure in a row, with jitter, capped: platform_settings.calendar_retry_*). invalid_grant true (Google answered invalid_grant): the grant is marked revoked, the sync stops, the mentor's slots stay closed and the mentor is told (calendar_disconnected, with a link to reconnect).
Arguments: for_mentor_id (UUID), worker (the claim's), error (text, at most 10000 characters; the first 2000 are kept), invalid_grant (true or false, default false).
Errors: 404 PT404 not connected; 409 PT409 the claim is not this worker's; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_sync_failed(text, text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_sync_failed(text, text, text, text) to service_role;

create or replace function public.calendar_sync_status()
returns table (mentor_id uuid, public_name text, connected_at timestamptz, revoked_at timestamptz,
               last_synced_at timestamptz, next_sync_at timestamptz, failures integer, last_error text,
               closed_because text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.calendar_sync_status();
end
$$;
comment on function public.calendar_sync_status() is
$$Admins: every connected mentor's Google Calendar sync: connected and revoked (invalid_grant) at, last success, next attempt, failures in a row and the last error, and why their slots are closed (null: open). Revoked grants first, then the stalest.
Errors: 403 PT403 not an admin.$$;
revoke execute on function public.calendar_sync_status() from public, anon;
grant execute on function public.calendar_sync_status() to authenticated, service_role;

-- >>> sql/rules/google/changes.sql
-- Google Calendar, changes made in Google come back: the calendar sync lists the receiving
-- calendar too (busy.sql), and calendar_synced hands this file what it saw of our session events.
-- An event deleted in Google, or whose times differ from what WE LAST WROTE (calendar_events, not
-- the session's current times: a reschedule whose patch is still queued is not the mentor's
-- edit), of a future scheduled session with no job pending, flags the session
-- (public.calendar_event_changes) and tells the mentor (calendar_event_changed). Nothing is
-- canceled automatically: the mentor chooses with resolve_calendar_change (cancel, credit
-- restored; or restore, the event put back at the session's time).

-- What one listed calendar showed of our events. ours: [{event_id, starts_at, ends_at}] (the live
-- events carrying our private marker); cancelled_event_ids: the ids Google listed as cancelled; a
-- full list (is_full) also tells by absence: one of ours within its window that it did not list
-- is gone. Only events we wrote before the claim (claimed_at) are judged: a write after it may be
-- newer than the list.
create or replace function private.calendar_changes_seen(for_mentor_id uuid, for_calendar_id text, is_full boolean,
                                                         time_min timestamptz, time_max timestamptz, ours jsonb,
                                                         cancelled_event_ids jsonb, claimed_at timestamptz)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  seen record;
  s public.sessions;
  flag public.calendar_event_changes;
  n integer := 0;
begin
  for seen in
    select e.session_id, o.starts_at as google_starts_at, o.ends_at as google_ends_at,
           case when o.event_id is null then 'deleted' else 'moved' end as change
      from private.calendar_events e
      left join pg_catalog.jsonb_to_recordset(ours) as o (event_id text, starts_at timestamptz, ends_at timestamptz)
        on o.event_id = e.event_id
     where e.mentor_id = for_mentor_id and e.calendar_id = for_calendar_id and e.written_at < claimed_at
       and ((o.event_id is not null and (o.starts_at <> e.starts_at or o.ends_at <> e.ends_at))
            or (o.event_id is null and e.event_id in (select pg_catalog.jsonb_array_elements_text(cancelled_event_ids)))
            or (o.event_id is null and is_full and e.ends_at > time_min and e.starts_at < time_max))
     order by e.session_id
  loop
    select * into s from public.sessions x where x.id = seen.session_id;
    continue when not found or s.status <> 'scheduled' or s.ends_at <= now_;
    continue when exists (select from private.calendar_jobs j where j.session_id = s.id and j.processed_at is null);
    update public.calendar_event_changes c
       set change = seen.change, google_starts_at = seen.google_starts_at, google_ends_at = seen.google_ends_at,
           noticed_at = now_
     where c.session_id = s.id and c.resolved_at is null
    returning * into flag;
    if not found then
      insert into public.calendar_event_changes (session_id, mentor_id, change, google_starts_at, google_ends_at, noticed_at)
      values (s.id, s.mentor_id, seen.change, seen.google_starts_at, seen.google_ends_at, now_)
      returning * into flag;
      perform private.notify(array[s.mentor_id], 'calendar_event_changed', format('calendar_event_changed:%s', flag.id),
        private.session_payload(s) || jsonb_build_object('change', flag.change, 'change_id', flag.id,
          'google_starts_at', flag.google_starts_at, 'google_ends_at', flag.google_ends_at),
        null, s.id);
    end if;
    n := n + 1;
  end loop;
  return n;
end
$$;
comment on function private.calendar_changes_seen(uuid, text, boolean, timestamptz, timestamptz, jsonb, jsonb, timestamptz) is
  'Flags the sessions whose event the mentor deleted or moved in Google (compared with what we last wrote; none with a job pending) and tells the mentor once per flag.';
revoke execute on function private.calendar_changes_seen(uuid, text, boolean, timestamptz, timestamptz, jsonb, jsonb, timestamptz)
  from public, anon, authenticated;

-- The mentor's choice about a flagged session: cancel (the existing cancel rule, as the mentor:
-- credit restored) or restore (an upsert queued: the event goes back to the session's time).
create or replace function private.resolve_calendar_change(for_session_id uuid, choice text)
returns public.calendar_event_changes
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  s public.sessions;
  flag public.calendar_event_changes;
begin
  if choice is null or choice not in ('cancel', 'restore') then
    perform private.refuse(422, format('choice: %s is not cancel or restore', coalesce(private.quoted(choice), 'nothing')),
      hint => 'Send choice as cancel (the session is canceled, credit restored) or restore (the event is put back).',
      details => 'choice');
  end if;
  select * into s from public.sessions x where x.id = for_session_id;
  if not found then
    perform private.refuse(404, format('no session %s', for_session_id), details => 'session_id');
  end if;
  if s.mentor_id is distinct from (select auth.uid()) and not private.is_admin() then
    perform private.refuse(403, 'this session is not yours', details => 'session_id');
  end if;
  select * into flag from public.calendar_event_changes c
   where c.session_id = s.id and c.resolved_at is null for update;
  if not found then
    perform private.refuse(409, 'the session''s calendar event has no change to resolve',
      hint => 'Only a session whose event was deleted or moved in Google (calendar_event_changes, open) has a choice.',
      details => 'session_id');
  end if;
  if choice = 'cancel' then
    perform private.cancel_session(s.id, 'the event was deleted or moved in Google Calendar');
  else
    insert into private.calendar_jobs (session_id, mentor_id, action, requested_at)
    values (s.id, s.mentor_id, 'upsert', private.clock_now());
  end if;
  update public.calendar_event_changes c set resolved_at = private.clock_now(), resolution = choice
   where c.id = flag.id
  returning * into flag;
  return flag;
end
$$;
comment on function private.resolve_calendar_change(uuid, text) is 'See public.resolve_calendar_change.';
revoke execute on function private.resolve_calendar_change(uuid, text) from public, anon;
grant execute on function private.resolve_calendar_change(uuid, text) to authenticated;

create or replace function public.resolve_calendar_change(session_id text default null, choice text default null)
returns public.calendar_event_changes
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.resolve_calendar_change(private.uuid_arg(session_id, 'session_id'),
                                         private.text_arg(choice, 'choice', 20, required => true));
end
$$;
comment on function public.resolve_calendar_change(text, text) is
$$The session's mentor (or an admin): what to do about a session whose Google Calendar event was deleted or moved in Google (an open row of calendar_event_changes). cancel: the session is canceled as a mentor cancels it (credit restored, both told). restore: the event is put back at the session's time (the calendar worker writes it). Answers the resolved row.
Arguments: session_id (UUID), choice (cancel or restore).
Errors: 403 PT403 not your session; 404 PT404 no such session; 409 PT409 no open change for it (or the cancel rule's: already started); 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.resolve_calendar_change(text, text) from public, anon;
grant execute on function public.resolve_calendar_change(text, text) to authenticated;

-- >>> sql/rules/google/channels.sql
-- Google Calendar, push: events.watch channels on each watched calendar (counts as busy, or
-- receives session events) of a connected mentor, so that a change in Google makes the mentor's
-- sync due at once instead of at the next poll. The worker (`python -m sync.gcal`, only when
-- MENTORSHIPS_GOOGLE_WEBHOOK_URL is set) claims what to open and what to stop; POST
-- /webhooks/google hands each notification to google_push (push.sql), which checks the channel's
-- token and wakes the worker (pg_notify 'calendar_sync_due'). The public RPCs are channels_api.sql.
--
--   claimed (token handed out once) --opened--> live --renewal: a new one opened--> to stop --stopped--> stopped
--        '--failed / lease ran out--> stopped            '--expired------------------------------------^
--   disconnect or reconnect: to stop with the old grant (the services, before revoking it).

-- A token of 244 random bits (gen_random_uuid draws from pg_strong_random), as 64 hex digits.
create or replace function private.new_channel_token()
returns text
language sql
volatile
set search_path = ''
as $$
  select replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
$$;
comment on function private.new_channel_token() is 'A new push channel token: 64 hex digits, 244 random bits.';
revoke execute on function private.new_channel_token() from public, anon, authenticated;

-- How long after a successful sync the mentor is due again: at once when a change notification
-- arrived after the claim began (it may not be in what was listed; the worker is woken), the
-- longer safety-net interval when every busy calendar has a live channel, else the polling one.
create or replace function private.calendar_next_sync_in(for_mentor_id uuid)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  attempt timestamptz := (select s.last_attempt_at from private.calendar_sync_state s where s.mentor_id = for_mentor_id);
begin
  select * into p from public.platform_settings x where x.id;
  if exists (select from private.calendar_channels c
              where c.mentor_id = for_mentor_id and c.last_change_at >= attempt) then
    perform pg_notify('calendar_sync_due', for_mentor_id::text);
    return 0;
  end if;
  -- every watched calendar (busy, or receiving the session events whose edits come back) has a
  -- live channel, and there is one
  if exists (select from public.mentor_calendars mc
              where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events))
     and not exists (select from public.mentor_calendars mc
                  where mc.mentor_id = for_mentor_id and (mc.counts_as_busy or mc.receives_events)
                    and not exists (select from private.calendar_channels c
                                     where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id
                                       and c.opened_at is not null and c.stopped_at is null and not c.grant_gone
                                       and c.expires_at > now_)) then
    return least(p.calendar_push_sync_interval_seconds, p.calendar_stale_after_minutes * 30);
  end if;
  return p.calendar_sync_interval_seconds;
end
$$;
comment on function private.calendar_next_sync_in(uuid) is
  'Seconds until the mentor''s next sync after a successful one: 0 (and the worker woken) when a change notification came during the sync, the push safety-net interval when every watched calendar (busy or receiving events) has a live channel, else the polling interval.';
revoke execute on function private.calendar_next_sync_in(uuid) from public, anon, authenticated;
grant execute on function private.calendar_next_sync_in(uuid) to service_role;

-- --- the grant goes: its channels are stopped with it ------------------------------------------

-- A disconnect (the grant deleted) or a reconnect (a new grant: connected_at changes; a key
-- rotation re-seals the same grant and changes nothing here). Opened channels are left to the
-- services, which stop them with the queued old grant before revoking it; unopened ones stop.
create or replace function private.tg_google_credentials__channels_gone()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.connected_at is not distinct from old.connected_at then
    return null;
  end if;
  update private.calendar_channels c
     set grant_gone = true, stop_after = coalesce(c.stop_after, private.clock_now()),
         stop_reason = coalesce(c.stop_reason, 'the grant it was opened with is gone'),
         stopped_at = case when c.opened_at is null then private.clock_now() end,
         claimed_by = null, locked_until = null
   where c.mentor_id = old.mentor_id and c.stopped_at is null;
  return null;
end
$$;
comment on function private.tg_google_credentials__channels_gone() is
  'A grant removed or replaced: its push channels are to be stopped (by the services, with that grant, before it is revoked).';
revoke execute on function private.tg_google_credentials__channels_gone() from public, anon, authenticated;

drop trigger if exists _120_channels_gone on private.google_credentials;
create trigger _120_channels_gone
  after update of connected_at or delete on private.google_credentials
  for each row execute function private.tg_google_credentials__channels_gone();

-- --- the worker's calls ---------------------------------------------------------------------------

-- Up to max_channels things to do, leased to worker: 'open' a channel on a watched calendar that
-- has none (or only one expiring within calendar_channel_renew_before_seconds), with the channel
-- id and token chosen here (the token is handed out this once; only its sha256 is kept), or
-- 'stop' a channel replaced or no longer wanted (with its resourceId). Each with the mentor's
-- sealed grant. Channels past their expiry are stopped (Google stopped them), claims whose lease
-- ran out without a report are given up, channels of calendars no longer watched are to stop.
create or replace function private.claim_calendar_channels(worker text, max_channels integer, lease_seconds integer)
returns table (action text, channel_id uuid, mentor_id uuid, calendar_id text, token text, resource_id text,
               ttl_seconds integer, refresh_token_sealed text, key_version integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  lease timestamptz := now_ + make_interval(secs => lease_seconds);
  room integer := max_channels;
  r record;
  new_token text;
  new_id uuid;
begin
  select * into p from public.platform_settings x where x.id;
  -- housekeeping (idempotent)
  update private.calendar_channels c set stopped_at = c.expires_at, claimed_by = null, locked_until = null
   where c.stopped_at is null and c.expires_at <= now_;
  update private.calendar_channels c
     set stopped_at = now_, claimed_by = null, locked_until = null, failures = c.failures + 1,
         last_error = 'the claim''s lease ran out before Google''s answer was reported',
         retry_at = now_ + private.message_retry_delay(c.failures + 1, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
   where c.stopped_at is null and c.opened_at is null and c.locked_until <= now_;
  update private.calendar_channels c set stop_after = now_, stop_reason = 'the calendar is no longer watched'
   where c.stopped_at is null and c.stop_after is null and c.opened_at is not null
     and not exists (select from public.mentor_calendars mc
                      where mc.mentor_id = c.mentor_id and mc.calendar_id = c.calendar_id
                        and (mc.counts_as_busy or mc.receives_events));
  -- a revoked grant (invalid_grant) can stop nothing: its channels only run out
  update private.calendar_channels c set stopped_at = now_, stop_reason = coalesce(c.stop_reason, 'the grant was revoked')
   where c.stopped_at is null and c.stop_after is not null and not c.grant_gone
     and exists (select from private.google_credentials g where g.mentor_id = c.mentor_id and g.revoked_at is not null);

  -- stops first: they free Google's per-calendar channel quota
  for r in
    select c.id, c.mentor_id, c.calendar_id, c.resource_id from private.calendar_channels c
     where c.stop_after <= now_ and c.stopped_at is null and not c.grant_gone and c.opened_at is not null
       and (c.locked_until is null or c.locked_until <= now_) and (c.retry_at is null or c.retry_at <= now_)
     order by c.stop_after, c.id
     limit room
       for update skip locked
  loop
    update private.calendar_channels c set claimed_by = worker, locked_until = lease where c.id = r.id;
    action := 'stop'; channel_id := r.id; mentor_id := r.mentor_id; calendar_id := r.calendar_id;
    token := null; resource_id := r.resource_id; ttl_seconds := null;
    select private.base64_text(g.refresh_token_ciphertext), g.key_version into refresh_token_sealed, key_version
      from private.google_credentials g where g.mentor_id = r.mentor_id;
    room := room - 1;
    return next;
  end loop;

  for r in
    select mc.mentor_id, mc.calendar_id, g.refresh_token_ciphertext, g.key_version,
           (select f.failures from private.calendar_channels f
             where f.mentor_id = mc.mentor_id and f.calendar_id = mc.calendar_id
             order by f.created_at desc, f.id limit 1) as last_failures
      from public.mentor_calendars mc
      join private.google_credentials g on g.mentor_id = mc.mentor_id and g.revoked_at is null
      join private.calendar_sync_state s on s.mentor_id = mc.mentor_id and not s.grant_revoked
     where (mc.counts_as_busy or mc.receives_events)
       and not exists (select from private.calendar_channels c
                        where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id and c.stopped_at is null
                          and c.stop_after is null
                          and (c.opened_at is null or c.expires_at > now_ + make_interval(secs => p.calendar_channel_renew_before_seconds)))
       and not exists (select from private.calendar_channels c
                        where c.mentor_id = mc.mentor_id and c.calendar_id = mc.calendar_id
                          and c.opened_at is null and c.retry_at > now_)
     order by mc.mentor_id, mc.calendar_id
     limit greatest(room, 0)
       for update of mc skip locked
  loop
    new_token := private.new_channel_token();
    insert into private.calendar_channels as c (mentor_id, calendar_id, token_sha256, created_at, claimed_by, locked_until, failures)
    values (r.mentor_id, r.calendar_id, sha256(convert_to(new_token, 'UTF8')), now_, worker, lease, coalesce(r.last_failures, 0))
    returning c.id into new_id;
    action := 'open'; channel_id := new_id; mentor_id := r.mentor_id; calendar_id := r.calendar_id;
    token := new_token; resource_id := null; ttl_seconds := p.calendar_channel_ttl_seconds;
    refresh_token_sealed := private.base64_text(r.refresh_token_ciphertext); key_version := r.key_version;
    return next;
  end loop;
end
$$;
comment on function private.claim_calendar_channels(text, integer, integer) is 'See public.claim_calendar_channels.';
revoke execute on function private.claim_calendar_channels(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_channels(text, integer, integer) to service_role;

-- The channel a report is about, locked, when worker holds its claim; 404/409 otherwise.
create or replace function private.held_channel_claim(for_channel_id uuid, worker text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  select * into c from private.calendar_channels x where x.id = for_channel_id for update;
  if not found then
    perform private.refuse(404, format('no watch channel %s', for_channel_id), hint => 'Report only channels claim_calendar_channels handed out.');
  end if;
  if c.claimed_by is distinct from worker or c.locked_until is null or c.stopped_at is not null then
    perform private.refuse(409, format('watch channel %s is not claimed by %s', for_channel_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out, it was reported already, or the grant went meanwhile: drop this result.');
  end if;
  return c;
end
$$;
comment on function private.held_channel_claim(uuid, text) is 'The channel, locked, when worker holds its claim; 404/409 otherwise.';
revoke execute on function private.held_channel_claim(uuid, text) from public, anon, authenticated;

-- Google accepted the watch: the channel is live until expires_at, and the one it replaces (any
-- other unstopped channel of the calendar) is to stop. A first channel on the calendar makes the
-- mentor's sync due at once (changes between the last sync and the watch were not notified).
create or replace function private.calendar_channel_opened(for_channel_id uuid, worker text, resource_id text, expires_at timestamptz)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  c private.calendar_channels;
  watched boolean;
  replaced integer;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  watched := exists (select from public.mentor_calendars mc
                      where mc.mentor_id = c.mentor_id and mc.calendar_id = c.calendar_id
                        and (mc.counts_as_busy or mc.receives_events));
  update private.calendar_channels x
     set opened_at = now_, resource_id = calendar_channel_opened.resource_id, expires_at = calendar_channel_opened.expires_at,
         claimed_by = null, locked_until = null, failures = 0, retry_at = null, last_error = null,
         stop_after = case when watched then null else now_ end,
         stop_reason = case when watched then null else 'the calendar is no longer watched' end
   where x.id = for_channel_id
  returning * into c;
  if watched then
    update private.calendar_channels x set stop_after = now_, stop_reason = format('replaced by channel %s', for_channel_id)
     where x.mentor_id = c.mentor_id and x.calendar_id = c.calendar_id and x.id <> for_channel_id
       and x.stopped_at is null and x.stop_after is null and x.opened_at is not null;
    get diagnostics replaced = row_count;
    if replaced = 0 then
      update private.calendar_sync_state s set next_sync_at = now_
       where s.mentor_id = c.mentor_id and s.next_sync_at > now_;
    end if;
  end if;
  return c;
end
$$;
comment on function private.calendar_channel_opened(uuid, text, text, timestamptz) is 'See public.calendar_channel_opened.';
revoke execute on function private.calendar_channel_opened(uuid, text, text, timestamptz) from public, anon, authenticated;
grant execute on function private.calendar_channel_opened(uuid, text, text, timestamptz) to service_role;

-- Stopped at Google (channels.stop answered, or 404: Google no longer knows it).
create or replace function private.calendar_channel_stopped(for_channel_id uuid, worker text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  if c.opened_at is null or c.stop_after is null then
    perform private.refuse(409, format('watch channel %s is not to be stopped', for_channel_id),
      hint => 'Report a stop only for a channel claimed with action stop.');
  end if;
  update private.calendar_channels x set stopped_at = private.clock_now(), claimed_by = null, locked_until = null, last_error = null
   where x.id = for_channel_id
  returning * into c;
  return c;
end
$$;
comment on function private.calendar_channel_stopped(uuid, text) is 'See public.calendar_channel_stopped.';
revoke execute on function private.calendar_channel_stopped(uuid, text) from public, anon, authenticated;
grant execute on function private.calendar_channel_stopped(uuid, text) to service_role;

-- Opening or stopping failed: an unopened channel is given up (the calendar is tried again after
-- a back-off, doubling per failure in a row as the sync's); a stop is retried after the back-off.
create or replace function private.calendar_channel_failed(for_channel_id uuid, worker text, error text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  p public.platform_settings;
  c private.calendar_channels;
begin
  c := private.held_channel_claim(for_channel_id, worker);
  select * into p from public.platform_settings x where x.id;
  update private.calendar_channels x
     set failures = x.failures + 1, last_error = left(calendar_channel_failed.error, 2000),
         claimed_by = null, locked_until = null,
         stopped_at = case when x.opened_at is null then now_ end,
         retry_at = now_ + private.message_retry_delay(x.failures + 1, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
   where x.id = for_channel_id
  returning * into c;
  return c;
end
$$;
comment on function private.calendar_channel_failed(uuid, text, text) is 'See public.calendar_channel_failed.';
revoke execute on function private.calendar_channel_failed(uuid, text, text) from public, anon, authenticated;
grant execute on function private.calendar_channel_failed(uuid, text, text) to service_role;

-- >>> sql/rules/google/channels_api.sql
-- Google Calendar, push: the public RPCs (service role only) the calendar sync calls for its
-- watch channels (claim_calendar_channels, calendar_channel_opened, calendar_channel_stopped,
-- calendar_channel_failed), the services' disconnect (google_channels_to_stop,
-- google_channel_stopped) and POST /webhooks/google (google_push). Each reads its arguments and
-- calls its definer in channels.sql.

create or replace function public.claim_calendar_channels(worker text default null, max_channels text default null,
                                                          lease_seconds text default null)
returns table (action text, channel_id uuid, mentor_id uuid, calendar_id text, token text, resource_id text,
               ttl_seconds integer, refresh_token_sealed text, key_version integer)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_calendar_channels(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_channels, '20'), 'max_channels', 1, 500),
    private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_calendar_channels(text, text, text) is
$$Service role (the calendar sync, when it has a public webhook address): up to max_channels watch channels to open or stop, leased to worker until now + lease_seconds. action 'open': a watched calendar (busy, or receiving session events) with no live channel, or one expiring within platform_settings.calendar_channel_renew_before_seconds; channel_id and token are chosen here (the token is given out this once) and ttl_seconds is the lifetime to ask for. action 'stop': a channel replaced or no longer wanted, with its resource_id. Each with the mentor's sealed grant.
Arguments: worker (text, at most 200 characters), max_channels (1 to 500, default 20), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_calendar_channels(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_calendar_channels(text, text, text) to service_role;

create or replace function public.calendar_channel_opened(channel_id text default null, worker text default null,
                                                          resource_id text default null, expires_at text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_opened(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(resource_id, 'resource_id', 1024, required => true),
    private.timestamptz_arg(expires_at, 'expires_at')) as c;
end
$$;
comment on function public.calendar_channel_opened(text, text, text, text) is
$$Service role (the calendar sync): Google accepted the watch of a claimed channel. Records its resource_id and expires_at; the calendar's other channels are to be stopped; a first channel on the calendar makes the mentor's sync due at once.
Arguments: channel_id (UUID), worker (the claim's), resource_id (the watch answer's resourceId), expires_at (its expiration as an ISO 8601 instant).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker (lease ran out, or the grant went); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_opened(text, text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_opened(text, text, text, text) to service_role;

create or replace function public.calendar_channel_stopped(channel_id text default null, worker text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_stopped(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true)) as c;
end
$$;
comment on function public.calendar_channel_stopped(text, text) is
$$Service role (the calendar sync): a channel claimed to stop was stopped at Google (channels.stop answered, or 404).
Arguments: channel_id (UUID), worker (the claim's).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker, or not to be stopped; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_stopped(text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_stopped(text, text) to service_role;

create or replace function public.calendar_channel_failed(channel_id text default null, worker text default null,
                                                          error text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.calendar_channel_failed(private.uuid_arg(channel_id, 'channel_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(error, 'error', 2000, required => true)) as c;
end
$$;
comment on function public.calendar_channel_failed(text, text, text) is
$$Service role (the calendar sync): opening or stopping a claimed channel failed. An unopened one is given up and its calendar tried again after a back-off (calendar_retry_base_seconds doubling to calendar_retry_max_seconds); a stop is retried after the back-off.
Arguments: channel_id (UUID), worker (the claim's), error (what failed, at most 2000 characters).
Errors: 404 PT404 no such channel; 409 PT409 not claimed by worker; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_channel_failed(text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_channel_failed(text, text, text) to service_role;

create or replace function public.google_channels_to_stop(for_mentor_id text default null)
returns table (channel_id uuid, calendar_id text, resource_id text)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_channels_to_stop(private.uuid_arg(for_mentor_id, 'for_mentor_id'));
end
$$;
comment on function public.google_channels_to_stop(text) is
$$Service role (the services, disconnecting or reconnecting a mentor): the opened watch channels of the mentor's removed or replaced grant, to stop with that grant before it is revoked.
Arguments: for_mentor_id (UUID).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_channels_to_stop(text) from public, anon, authenticated;
grant execute on function public.google_channels_to_stop(text) to service_role;

create or replace function public.google_channel_stopped(channel_id text default null, error text default null)
returns table (id uuid, mentor_id uuid, calendar_id text, opened_at timestamptz, expiry timestamptz, stop_after timestamptz,
               stopped_at timestamptz, failures integer, retry_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select c.id, c.mentor_id, c.calendar_id, c.opened_at, c.expires_at, c.stop_after, c.stopped_at, c.failures, c.retry_at
    from private.google_channel_stopped(private.uuid_arg(channel_id, 'channel_id'), private.text_arg(error, 'error', 2000)) as c;
end
$$;
comment on function public.google_channel_stopped(text, text) is
$$Service role (the services): a channel of a removed grant is done with: stopped at Google, or (error set) it could not be and only runs out.
Arguments: channel_id (UUID), error (null when Google stopped it).
Errors: 404 PT404 no such channel left to stop; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_channel_stopped(text, text) from public, anon, authenticated;
grant execute on function public.google_channel_stopped(text, text) to service_role;

create or replace function public.google_push(channel_id text default null, token text default null, resource_id text default null,
                                              resource_state text default null, message_number text default null)
returns table (mentor_id uuid, sync_due boolean)
language plpgsql
volatile
set search_path = ''
as $$
declare
  id uuid;
begin
  -- the channel id names no field value in the message: it may be anything a caller sent
  begin
    id := channel_id::uuid;
  exception when invalid_text_representation then
    perform private.refuse(404, 'no watch channel has the id in X-Goog-Channel-ID', details => 'X-Goog-Channel-ID',
      hint => 'Only channels these services opened are taken.');
  end;
  if message_number is not null and message_number !~ '^[0-9]{1,18}$' then
    perform private.refuse(422, 'X-Goog-Message-Number must be a whole number', details => 'X-Goog-Message-Number',
      hint => 'Send the number Google sent.');
  end if;
  return query select p.mentor_id, p.sync_due from private.google_push(id, token, resource_id, resource_state, message_number::bigint) as p;
end
$$;
comment on function public.google_push(text, text, text, text, text) is
$$Service role (POST /webhooks/google): one notification of a Google Calendar watch channel, as its headers came. Checks the channel id, its token (by sha256), that it is not stopped and the resource id; state sync is acknowledged, exists and not_exists make the mentor's calendar sync due now and wake the sync worker (NOTIFY calendar_sync_due).
Arguments: channel_id (X-Goog-Channel-ID), token (X-Goog-Channel-Token), resource_id (X-Goog-Resource-ID), resource_state (X-Goog-Resource-State), message_number (X-Goog-Message-Number).
Errors: 404 PT404 unknown channel; 403 PT403 wrong token or resource id; 410 PT410 channel stopped; 422 PT422 unknown state or malformed message number.$$;
revoke execute on function public.google_push(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.google_push(text, text, text, text, text) to service_role;

-- >>> sql/rules/google/connect.sql
-- Google Calendar, connecting (GET /oauth/google/start and /callback, POST /oauth/google/disconnect,
-- `mentorships gcal rotate-key`). The services hold the Google client and the token keys; the
-- rules here decide who may connect, that a consent state is good once, what is stored, and which
-- calendars a mentor may choose. Refresh tokens arrive sealed (AES-GCM, sync/gcal/sealing.py) as
-- base64 text and are stored as bytea; no rule can open them. The public wrappers are beside
-- this file (connect_api.sql, not api.sql), and what serves the stored grants is tokens.sql.

-- bytea as one line of base64 (encode() breaks lines every 76 characters).
create or replace function private.base64_text(value bytea)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select pg_catalog.translate(pg_catalog.encode(value, 'base64'), E'\n', '') $$;
comment on function private.base64_text(bytea) is 'value as base64 on one line.';
revoke execute on function private.base64_text(bytea) from public;
grant execute on function private.base64_text(bytea) to service_role;

-- A sealed token as the services send it: base64 of at least a nonce and a tag (28 bytes).
create or replace function private.sealed_arg(value text, field text)
returns bytea
language plpgsql
immutable
set search_path = ''
as $$
declare
  sealed bytea;
begin
  if value is null or length(value) not between 40 and 8000 or value !~ '^[A-Za-z0-9+/]+={0,2}$' then
    perform private.refuse(422, format('%s is missing or not base64', field),
      hint => format('Send %s as the base64 of the sealed token (sync/gcal/sealing.py).', field), details => field);
  end if;
  sealed := pg_catalog.decode(value, 'base64');
  return sealed;
exception when invalid_parameter_value then
  perform private.refuse(422, format('%s is not base64', field),
    hint => format('Send %s as the base64 of the sealed token (sync/gcal/sealing.py).', field), details => field);
  return null;
end
$$;
comment on function private.sealed_arg(text, text) is 'A sealed token sent as base64, as bytea; 422 naming field otherwise.';
revoke execute on function private.sealed_arg(text, text) from public;
grant execute on function private.sealed_arg(text, text) to service_role;

-- --- start and callback --------------------------------------------------------------------------

create or replace function private.begin_google_connect()
returns table (nonce text, mentor_id uuid, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  -- Two version 4 UUIDs: 244 bits from the server's strong random source.
  n text := pg_catalog.replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  until timestamptz := private.clock_now() + interval '10 minutes';
begin
  if me is null or not exists (select from public.mentors m where m.id = me) then
    perform private.refuse(403, 'only mentors connect a Google Calendar',
      hint => 'Sign in with a mentor account (profiles.role mentor, with a mentor profile).');
  end if;
  delete from private.google_oauth_states s where s.mentor_id = me and s.expires_at <= private.clock_now();
  if (select count(*) from private.google_oauth_states s where s.mentor_id = me) >= 20 then
    perform private.refuse(429, 'too many Google connections started and not finished (20 in 10 minutes)',
      hint => 'Finish one at Google, or wait 10 minutes.');
  end if;
  insert into private.google_oauth_states (nonce, mentor_id, expires_at) values (n, me, until);
  return query select n, me, until;
end
$$;
comment on function private.begin_google_connect() is
  'See public.begin_google_connect: records a one-time consent state for the calling mentor.';
revoke execute on function private.begin_google_connect() from public, anon;
grant execute on function private.begin_google_connect() to authenticated;

create or replace function private.claim_google_state(nonce text, mentor_id uuid)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  until timestamptz;
begin
  delete from private.google_oauth_states s
   where s.nonce = claim_google_state.nonce and s.mentor_id = claim_google_state.mentor_id
  returning s.expires_at into until;
  if not found then
    perform private.refuse(400, 'state: it was already used, or was never issued to this mentor',
      hint => 'Start again at GET /oauth/google/start.', details => 'state');
  end if;
  if until <= private.clock_now() then
    perform private.refuse(400, format('state: it expired at %s', until),
      hint => 'Start again at GET /oauth/google/start.', details => 'state');
  end if;
  return claim_google_state.mentor_id;
end
$$;
comment on function private.claim_google_state(text, uuid) is
  'See public.claim_google_state: takes a consent state (once).';
revoke execute on function private.claim_google_state(text, uuid) from public, anon, authenticated;
grant execute on function private.claim_google_state(text, uuid) to service_role;

-- The calendar list as Google's calendarList.list items: [{id, summary, primary, accessRole,
-- timeZone}, ...]. Kept choices stay; on the first list (or when the chosen calendars are gone)
-- the primary calendar counts as busy and receives the events.
create or replace function private.store_google_calendars(mentor_id uuid, calendars jsonb)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  item jsonb;
begin
  if calendars is null or pg_catalog.jsonb_typeof(calendars) <> 'array' then
    perform private.refuse(422, 'calendars must be an array of calendarList entries',
      hint => 'Send calendars as [{"id", "summary", "primary", "accessRole", "timeZone"}, ...].', details => 'calendars');
  end if;
  for item in select * from pg_catalog.jsonb_array_elements(calendars) loop
    if pg_catalog.jsonb_typeof(item -> 'id') is distinct from 'string'
       or coalesce(item ->> 'accessRole', '') not in ('freeBusyReader', 'reader', 'writer', 'owner') then
      perform private.refuse(422, 'calendars: an entry without a string id or a known accessRole',
        hint => 'Send each entry with id (text) and accessRole (freeBusyReader, reader, writer or owner).', details => 'calendars');
    end if;
  end loop;
  perform from public.mentors m where m.id = store_google_calendars.mentor_id for update;
  if not found then
    perform private.refuse(404, format('no mentor with id %s', store_google_calendars.mentor_id), details => 'mentor_id');
  end if;
  delete from public.mentor_calendars c
   where c.mentor_id = store_google_calendars.mentor_id
     and c.calendar_id not in (select e ->> 'id' from pg_catalog.jsonb_array_elements(calendars) e);
  insert into public.mentor_calendars as c (mentor_id, calendar_id, summary, is_primary, access_role, time_zone, listed_at)
  select store_google_calendars.mentor_id, e ->> 'id', left(coalesce(e ->> 'summary', ''), 1024),
         coalesce((e ->> 'primary')::boolean, false), e ->> 'accessRole', left(e ->> 'timeZone', 64), private.clock_now()
    from pg_catalog.jsonb_array_elements(calendars) e
  on conflict on constraint mentor_calendars_mentor_calendar_key do update
    set summary = excluded.summary, is_primary = excluded.is_primary, access_role = excluded.access_role,
        time_zone = excluded.time_zone, listed_at = excluded.listed_at,
        receives_events = c.receives_events and excluded.access_role in ('writer', 'owner');
  if not exists (select from public.mentor_calendars c
                  where c.mentor_id = store_google_calendars.mentor_id and (c.counts_as_busy or c.receives_events)) then
    update public.mentor_calendars c set counts_as_busy = true, receives_events = c.access_role in ('writer', 'owner')
     where c.mentor_id = store_google_calendars.mentor_id and c.is_primary;
  end if;
  update private.google_credentials g
     set calendar_id = coalesce((select c.calendar_id from public.mentor_calendars c
                                  where c.mentor_id = g.mentor_id and c.receives_events), 'primary')
   where g.mentor_id = store_google_calendars.mentor_id;
  return query select * from public.mentor_calendars c
                where c.mentor_id = store_google_calendars.mentor_id order by not c.is_primary, c.calendar_id;
end
$$;
comment on function private.store_google_calendars(uuid, jsonb) is
  'See public.store_google_calendars: replaces a mentor''s calendar list, keeping the choices.';
revoke execute on function private.store_google_calendars(uuid, jsonb) from public, anon, authenticated;
grant execute on function private.store_google_calendars(uuid, jsonb) to service_role;

create or replace function private.google_connected(mentor_id uuid, sealed bytea, key_version integer,
                                                    scopes text[], calendars jsonb)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  perform from public.mentors m where m.id = google_connected.mentor_id for update;
  if not found then
    perform private.refuse(404, format('no mentor with id %s', google_connected.mentor_id), details => 'mentor_id');
  end if;
  -- A grant this one replaces is revoked at Google too (a reconnect must not leave it alive).
  insert into private.google_revocations (mentor_id, refresh_token_ciphertext, key_version)
  select g.mentor_id, g.refresh_token_ciphertext, g.key_version
    from private.google_credentials g where g.mentor_id = google_connected.mentor_id;
  insert into private.google_credentials as g (mentor_id, refresh_token_ciphertext, key_version, scopes, connected_at, revoked_at)
  values (google_connected.mentor_id, sealed, google_connected.key_version, google_connected.scopes, private.clock_now(), null)
  on conflict on constraint google_credentials_pkey do update
    set refresh_token_ciphertext = excluded.refresh_token_ciphertext, key_version = excluded.key_version,
        scopes = excluded.scopes, connected_at = excluded.connected_at, revoked_at = null;
  return query select * from private.store_google_calendars(google_connected.mentor_id, calendars);
end
$$;
comment on function private.google_connected(uuid, bytea, integer, text[], jsonb) is
  'See public.google_connected: stores a mentor''s sealed grant and calendar list.';
revoke execute on function private.google_connected(uuid, bytea, integer, text[], jsonb) from public, anon, authenticated;
grant execute on function private.google_connected(uuid, bytea, integer, text[], jsonb) to service_role;

-- --- the mentor's choice -------------------------------------------------------------------------

create or replace function private.choose_google_calendars(busy_calendar_ids text[], events_calendar_id text)
returns setof public.mentor_calendars
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  unknown text;
begin
  if not exists (select from private.google_credentials g where g.mentor_id = me) then
    perform private.refuse(409, 'no Google Calendar is connected',
      hint => 'Connect one first: GET /oauth/google/start.');
  end if;
  select b into unknown from pg_catalog.unnest(busy_calendar_ids) b
   where not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = b) limit 1;
  if found then
    perform private.refuse(422, format('busy_calendar_ids: %s is not one of your calendars', private.quoted(unknown)),
      hint => 'Send calendar ids from your mentor_calendars rows.', details => 'busy_calendar_ids');
  end if;
  if not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = events_calendar_id) then
    perform private.refuse(422, format('events_calendar_id: %s is not one of your calendars', private.quoted(events_calendar_id)),
      hint => 'Send a calendar id from your mentor_calendars rows.', details => 'events_calendar_id');
  end if;
  if not exists (select from public.mentor_calendars c where c.mentor_id = me and c.calendar_id = events_calendar_id
                    and c.access_role in ('writer', 'owner')) then
    perform private.refuse(422, format('events_calendar_id: you cannot write to %s', private.quoted(events_calendar_id)),
      hint => 'Choose a calendar whose access_role is writer or owner.', details => 'events_calendar_id');
  end if;
  -- (Two steps: at most one calendar of a mentor receives events at any moment. The chosen one
  -- keeps its flag when it had it, so choosing it again queues none of its events again.)
  update public.mentor_calendars c
     set counts_as_busy = c.calendar_id = any (busy_calendar_ids),
         receives_events = c.receives_events and c.calendar_id = events_calendar_id
   where c.mentor_id = me;
  update public.mentor_calendars c set receives_events = true
   where c.mentor_id = me and c.calendar_id = events_calendar_id and not c.receives_events;
  update private.google_credentials g set calendar_id = events_calendar_id where g.mentor_id = me;
  return query select * from public.mentor_calendars c where c.mentor_id = me
                order by not c.is_primary, c.calendar_id;
end
$$;
comment on function private.choose_google_calendars(text[], text) is
  'See public.choose_google_calendars.';
revoke execute on function private.choose_google_calendars(text[], text) from public, anon;
grant execute on function private.choose_google_calendars(text[], text) to authenticated;

-- --- disconnect and revocation -------------------------------------------------------------------

create or replace function private.disconnect_google()
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  revocation bigint;
begin
  if me is null or not exists (select from public.mentors m where m.id = me) then
    perform private.refuse(403, 'only mentors connect a Google Calendar',
      hint => 'Sign in with a mentor account (profiles.role mentor, with a mentor profile).');
  end if;
  with gone as (delete from private.google_credentials g where g.mentor_id = me returning g.*)
  insert into private.google_revocations (mentor_id, refresh_token_ciphertext, key_version)
  select gone.mentor_id, gone.refresh_token_ciphertext, gone.key_version from gone
  returning id into revocation;
  delete from public.mentor_calendars c where c.mentor_id = me;
  delete from private.calendar_busy_intervals b where b.mentor_id = me;
  delete from private.calendar_sync_state s where s.mentor_id = me;
  delete from private.google_oauth_states s where s.mentor_id = me;
  return revocation;
end
$$;
comment on function private.disconnect_google() is 'See public.disconnect_google.';
revoke execute on function private.disconnect_google() from public, anon;
grant execute on function private.disconnect_google() to authenticated;

-- >>> sql/rules/google/connect_api.sql
-- Google Calendar, connecting: the RPCs clients and the services call (POST /rest/v1/rpc/<name>).
-- Each reads its arguments (a 422 naming the field) and calls the security-definer function in
-- private that decides (sql/rules/google/connect.sql). Their comments are the API's documentation.

create or replace function public.begin_google_connect()
returns table (nonce text, mentor_id uuid, expires_at timestamptz)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.begin_google_connect();
end
$$;
comment on function public.begin_google_connect() is
$$Mentors (GET /oauth/google/start calls it with your token): records a one-time consent state, good for 10 minutes; the services sign it into Google's consent URL.
Errors: 403 PT403 you are not a mentor; 429 PT429 20 connections started and not finished.$$;
revoke execute on function public.begin_google_connect() from public, anon;
grant execute on function public.begin_google_connect() to authenticated;

create or replace function public.claim_google_state(nonce text default null, mentor_id text default null)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.claim_google_state(private.text_arg(nonce, 'nonce', 64, required => true),
    private.uuid_arg(mentor_id, 'mentor_id'));
end
$$;
comment on function public.claim_google_state(text, text) is
$$Service role (GET /oauth/google/callback): takes the consent state begin_google_connect recorded, once. Returns the mentor id.
Arguments: nonce (the signed state's), mentor_id (UUID).
Errors: 400 PT400 the state was already used, never issued to this mentor, or expired (details state); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_google_state(text, text) from public, anon, authenticated;
grant execute on function public.claim_google_state(text, text) to service_role;

create or replace function public.google_connected(mentor_id text default null, refresh_token_sealed text default null,
                                                   key_version text default null, scopes jsonb default null,
                                                   calendars jsonb default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  if scopes is null or pg_catalog.jsonb_typeof(scopes) <> 'array'
     or exists (select from pg_catalog.jsonb_array_elements(scopes) s where pg_catalog.jsonb_typeof(s) <> 'string') then
    perform private.refuse(422, 'scopes must be an array of texts', hint => 'Send scopes as the granted scopes, e.g. ["https://www.googleapis.com/auth/calendar.events"].', details => 'scopes');
  end if;
  return query select * from private.google_connected(private.uuid_arg(mentor_id, 'mentor_id'),
    private.sealed_arg(refresh_token_sealed, 'refresh_token_sealed'),
    private.integer_arg(key_version, 'key_version', 1, 1000000),
    array(select pg_catalog.jsonb_array_elements_text(scopes)), calendars);
end
$$;
comment on function public.google_connected(text, text, text, jsonb, jsonb) is
$$Service role (GET /oauth/google/callback): stores the mentor's sealed refresh token (a grant it replaces is queued for revocation) and calendar list in one transaction. Returns the calendars.
Arguments: mentor_id (UUID), refresh_token_sealed (base64 of the AES-GCM sealed token), key_version (1 to 1000000), scopes (array of texts), calendars (calendarList items).
Errors: 404 PT404 no such mentor; 422 PT422 missing or malformed argument (details names it).$$;
revoke execute on function public.google_connected(text, text, text, jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.google_connected(text, text, text, jsonb, jsonb) to service_role;

create or replace function public.store_google_calendars(mentor_id text default null, calendars jsonb default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.store_google_calendars(private.uuid_arg(mentor_id, 'mentor_id'), calendars);
end
$$;
comment on function public.store_google_calendars(text, jsonb) is
$$Service role: replaces a mentor's calendar list with Google's (calendarList items), keeping the mentor's choices; the primary calendar is the default for both. Returns the calendars.
Errors: 404 PT404 no such mentor; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.store_google_calendars(text, jsonb) from public, anon, authenticated;
grant execute on function public.store_google_calendars(text, jsonb) to service_role;

create or replace function public.choose_google_calendars(busy_calendar_ids jsonb default null,
                                                          events_calendar_id text default null)
returns setof public.mentor_calendars
language plpgsql
volatile
set search_path = ''
as $$
begin
  if busy_calendar_ids is null or pg_catalog.jsonb_typeof(busy_calendar_ids) <> 'array'
     or exists (select from pg_catalog.jsonb_array_elements(busy_calendar_ids) b where pg_catalog.jsonb_typeof(b) <> 'string') then
    perform private.refuse(422, 'busy_calendar_ids must be an array of calendar ids',
      hint => 'Send busy_calendar_ids as an array of your mentor_calendars calendar ids (may be empty).', details => 'busy_calendar_ids');
  end if;
  return query select * from private.choose_google_calendars(
    array(select pg_catalog.jsonb_array_elements_text(busy_calendar_ids)),
    private.text_arg(events_calendar_id, 'events_calendar_id', 1024, required => true));
end
$$;
comment on function public.choose_google_calendars(jsonb, text) is
$$Mentors: which of your Google calendars count as busy (no slots offered during their events) and which one receives session events. Returns your calendars.
Arguments: busy_calendar_ids (array of calendar ids, may be empty), events_calendar_id (a calendar you may write to).
Errors: 409 PT409 no Google Calendar connected; 422 PT422 a calendar that is not yours or not writable, missing or malformed argument (details names it).$$;
revoke execute on function public.choose_google_calendars(jsonb, text) from public, anon;
grant execute on function public.choose_google_calendars(jsonb, text) to authenticated;

create or replace function public.disconnect_google()
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.disconnect_google();
end
$$;
comment on function public.disconnect_google() is
$$Mentors: disconnects your Google Calendar: the grant is queued for revocation at Google (POST /oauth/google/disconnect revokes it at once), your calendars, busy times and sync state are removed. Returns the revocation's number, null when nothing was connected.
Errors: 403 PT403 you are not a mentor.$$;
revoke execute on function public.disconnect_google() from public, anon;
grant execute on function public.disconnect_google() to authenticated;

-- >>> sql/rules/google/events.sql
-- Google Calendar, session events out: the calendar worker (`python -m sync.gcal`, its events
-- loop sync/gcal/events.py) drains private.calendar_jobs, which book, reschedule, cancel and
-- refunds queue in their own transactions. Per session, never two claims at once: the pending
-- jobs of a session collapse into one claim whose action comes from the session's CURRENT state
-- (scheduled, completed or a no-show: the event at its times; canceled: no event), so a retried
-- or late job can never bring back or move an event wrongly. What we wrote is kept in
-- private.calendar_events (changes.sql compares Google's events with it).
--
--   queued --claim--> in flight --calendar_job_done--> done (calendar_events updated)
--     |                  |-----calendar_job_failed--> due after a back-off; gave_up after the max
--     '-- mentor without a connected receiving calendar: skipped at once (last_error says why);
--         connecting (or choosing another receiving calendar) queues their future sessions again.
-- The public RPCs are in events_api.sql.

-- Google lets a client choose an event id: 5 to 1024 characters of base32hex (a-v, 0-9). The
-- session id's 16 bytes in base32hex, lowercase, unpadded: 26 characters, one event per session.
create or replace function private.google_event_id(session_id uuid)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  b bytea := pg_catalog.uuid_send(session_id);
  bits text := '';
  out text := '';
begin
  for i in 0..15 loop
    bits := bits || pg_catalog.get_byte(b, i)::bit(8)::text;
  end loop;
  bits := rpad(bits, 130, '0');
  for i in 0..25 loop
    out := out || substr('0123456789abcdefghijklmnopqrstuv', substr(bits, i * 5 + 1, 5)::bit(5)::integer + 1, 1);
  end loop;
  return out;
end
$$;
comment on function private.google_event_id(uuid) is
  'The Google Calendar event id of a session: its 16 bytes in base32hex (RFC 4648), lowercase, unpadded (26 characters).';
revoke execute on function private.google_event_id(uuid) from public, anon, authenticated;
grant execute on function private.google_event_id(uuid) to service_role;

-- The mentor's calendar that receives session events, when the grant is live; null otherwise.
create or replace function private.events_calendar_of(for_mentor_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select mc.calendar_id
    from public.mentor_calendars mc
    join private.google_credentials g on g.mentor_id = mc.mentor_id and g.revoked_at is null
   where mc.mentor_id = for_mentor_id and mc.receives_events;
$$;
comment on function private.events_calendar_of(uuid) is
  'The calendar receiving the mentor''s session events (Google connected, grant not revoked); null when there is none.';
revoke execute on function private.events_calendar_of(uuid) from public, anon, authenticated;

-- Upserts for a mentor's future sessions (not ended, not canceled) that have no pending job.
create or replace function private.queue_future_session_events(for_mentor_ids uuid[])
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n integer;
begin
  insert into private.calendar_jobs (session_id, mentor_id, action, requested_at)
  select s.id, s.mentor_id, 'upsert', private.clock_now()
    from public.sessions s
   where s.mentor_id = any(for_mentor_ids) and s.status = 'scheduled' and s.ends_at > private.clock_now()
     and not exists (select from private.calendar_jobs j where j.session_id = s.id and j.processed_at is null);
  get diagnostics n = row_count;
  return n;
end
$$;
comment on function private.queue_future_session_events(uuid[]) is
  'Queues the calendar event of every future scheduled session of the mentors (connecting later still puts existing sessions in the calendar).';
revoke execute on function private.queue_future_session_events(uuid[]) from public, anon, authenticated;

-- A mentor connected (or reconnected) Google, or chose another calendar to receive events: their
-- future sessions go into it (the worker deletes an event from the calendar it was in before).
create or replace function private.tg_google_credentials__queue_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array[new.mentor_id]);
  return null;
end
$$;
comment on function private.tg_google_credentials__queue_events() is 'A stored grant: the mentor''s future sessions are queued into their calendar.';
revoke execute on function private.tg_google_credentials__queue_events() from public, anon, authenticated;

drop trigger if exists _200_queue_events on private.google_credentials;
create trigger _200_queue_events
  after insert or update of refresh_token_ciphertext on private.google_credentials
  for each row execute function private.tg_google_credentials__queue_events();

create or replace function private.tg_mentor_calendars__queue_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array(select distinct n.mentor_id from new_rows n where n.receives_events));
  return null;
end
$$;
comment on function private.tg_mentor_calendars__queue_events() is 'Calendars listed receiving events: the mentor''s future sessions are queued into it.';
revoke execute on function private.tg_mentor_calendars__queue_events() from public, anon, authenticated;

create or replace function private.tg_mentor_calendars__queue_moved_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.queue_future_session_events(array(
    select distinct n.mentor_id from new_rows n join old_rows o on o.id = n.id
     where n.receives_events and not o.receives_events));
  return null;
end
$$;
comment on function private.tg_mentor_calendars__queue_moved_events() is 'A calendar newly chosen to receive events: the mentor''s future sessions are queued into it.';
revoke execute on function private.tg_mentor_calendars__queue_moved_events() from public, anon, authenticated;

drop trigger if exists _200_queue_events_insert on public.mentor_calendars;
create trigger _200_queue_events_insert
  after insert on public.mentor_calendars
  referencing new table as new_rows
  for each statement execute function private.tg_mentor_calendars__queue_events();
drop trigger if exists _210_queue_events_update on public.mentor_calendars;
create trigger _210_queue_events_update
  after update on public.mentor_calendars
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.tg_mentor_calendars__queue_moved_events();

-- --- the worker's calls --------------------------------------------------------------------------

-- Claims the pending jobs of up to max_jobs sessions under a lease. Per session (a transaction
-- advisory lock, then a fresh look under it), never a second claim while one is in flight; all
-- its pending jobs are claimed together and answered with what the worker needs now. Jobs of a
-- mentor with no live receiving calendar, and of a session that ended before its event was ever
-- written, are finished first (outcome skipped, last_error why).
-- The claim's answer gained request_id: a column added to a function's result needs the older
-- shape dropped first (once; re-applying finds the new one and keeps it).
do $$
begin
  if exists (select from pg_catalog.pg_proc p
              where p.oid = pg_catalog.to_regprocedure('private.claim_calendar_jobs(text, integer, integer)')
                and not 'request_id' = any(p.proargnames)) then
    drop function private.claim_calendar_jobs(text, integer, integer);
  end if;
end
$$;
create or replace function private.claim_calendar_jobs(worker text, max_jobs integer, lease_seconds integer)
returns table (session_id uuid, mentor_id uuid, job_ids bigint[], attempts integer, action text,
               calendar_id text, written_calendar_id text, event_id text, refresh_token_sealed text,
               key_version integer, summary text, mentor_name text, student_name text,
               starts_at timestamptz, ends_at timestamptz, time_zone text, request_id text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  candidate record;
  ids bigint[];
  taken integer := 0;
begin
  update private.calendar_jobs j
     set processed_at = now_, outcome = 'skipped',
         last_error = 'the mentor has no Google Calendar connected that receives session events'
   where j.processed_at is null and (j.locked_until is null or j.locked_until <= now_)
     and private.events_calendar_of(j.mentor_id) is null;
  -- A session that ended before its event was ever written is not added to the calendar now (jobs
  -- left from before the mentor connected, or a worker that was down): one that has an event is
  -- still kept in step.
  update private.calendar_jobs j
     set processed_at = now_, outcome = 'skipped',
         last_error = 'the session ended before its event was written: past sessions are not added to the calendar'
   where j.processed_at is null and (j.locked_until is null or j.locked_until <= now_)
     and exists (select from public.sessions s where s.id = j.session_id and s.ends_at <= now_)
     and not exists (select from private.calendar_events e where e.session_id = j.session_id);
  for candidate in
    select j.session_id as sid, min(j.id) as first_id
      from private.calendar_jobs j
     where j.processed_at is null
     group by j.session_id
    having bool_and(j.locked_until is null or j.locked_until <= now_)
       and min(coalesce(j.next_attempt_at, j.requested_at)) <= now_
     order by min(j.id)
  loop
    exit when taken >= max_jobs;
    continue when not pg_catalog.pg_try_advisory_xact_lock(12, pg_catalog.hashtext(candidate.sid::text));
    -- Under the lock, a statement of its own sees every claim committed before.
    ids := array(select j.id from private.calendar_jobs j
                  where j.session_id = candidate.sid and j.processed_at is null
                  order by j.id for update);
    continue when cardinality(ids) = 0 or exists (
      select from private.calendar_jobs j
       where j.id = any(ids) and j.locked_until > now_);
    update private.calendar_jobs j
       set claimed_by = claim_calendar_jobs.worker, attempts = j.attempts + 1,
           locked_until = now_ + make_interval(secs => claim_calendar_jobs.lease_seconds)
     where j.id = any(ids);
    taken := taken + 1;
    return query
      select s.id, s.mentor_id, ids, (select max(j.attempts) from private.calendar_jobs j where j.id = any(ids)),
             case when s.status in ('canceled', 'late_canceled') then 'delete' else 'upsert' end,
             private.events_calendar_of(s.mentor_id), e.calendar_id, private.google_event_id(s.id),
             private.base64_text(g.refresh_token_ciphertext), g.key_version,
             format('%s: %s with %s', pr.title, coalesce(st.display_name, 'a student'), m.public_name),
             m.public_name, st.display_name, s.starts_at, s.ends_at, m.time_zone,
             (select j.request_id from private.calendar_jobs j where j.id = any(ids) order by j.id desc limit 1)
        from public.sessions s
        join public.mentors m on m.id = s.mentor_id
        join public.session_packs p on p.id = s.pack_id
        join public.mentorship_products pr on pr.id = p.product_id
        join private.google_credentials g on g.mentor_id = s.mentor_id
        left join public.profiles st on st.id = s.student_id
        left join private.calendar_events e on e.session_id = s.id
       where s.id = candidate.sid;
  end loop;
end
$$;
comment on function private.claim_calendar_jobs(text, integer, integer) is 'See public.claim_calendar_jobs.';
revoke execute on function private.claim_calendar_jobs(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_calendar_jobs(text, integer, integer) to service_role;

-- The jobs of the session this worker's claim holds (locked); 409 when it holds none.
create or replace function private.held_calendar_jobs(for_session_id uuid, worker text)
returns bigint[]
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[];
begin
  ids := array(select j.id from private.calendar_jobs j
                where j.session_id = for_session_id and j.processed_at is null
                  and j.claimed_by = worker and j.locked_until is not null
                order by j.id for update);
  if cardinality(ids) = 0 then
    perform private.refuse(409, format('no calendar job of session %s is claimed by %s', for_session_id, private.quoted(worker)),
      hint => 'The claim''s lease ran out and another worker took it, or it was reported already: drop this result.');
  end if;
  return ids;
end
$$;
comment on function private.held_calendar_jobs(uuid, text) is 'The claimed jobs of the session when worker holds them, locked; 409 otherwise.';
revoke execute on function private.held_calendar_jobs(uuid, text) from public, anon, authenticated;

-- Google has the event as claimed: written (upsert: where, its times and etag) or gone (delete).
create or replace function private.calendar_job_done(for_session_id uuid, worker text, written jsonb)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[] := private.held_calendar_jobs(for_session_id, worker);
  w record;
begin
  if written is null then
    delete from private.calendar_events e where e.session_id = for_session_id;
  else
    begin
      select * into strict w
        from pg_catalog.jsonb_to_record(written)
          as x (calendar_id text, event_id text, starts_at timestamptz, ends_at timestamptz, etag text);
      insert into private.calendar_events as e (session_id, mentor_id, calendar_id, event_id, starts_at, ends_at, etag, written_at)
      select for_session_id, s.mentor_id, w.calendar_id, w.event_id, w.starts_at, w.ends_at, w.etag, private.clock_now()
        from public.sessions s where s.id = for_session_id
      on conflict (session_id) do update
        set calendar_id = excluded.calendar_id, event_id = excluded.event_id, starts_at = excluded.starts_at,
            ends_at = excluded.ends_at, etag = excluded.etag, written_at = excluded.written_at;
    exception
      when data_exception or integrity_constraint_violation then
        perform private.refuse(422, format('written is malformed (%s)', sqlerrm),
          hint => 'Send written as {calendar_id, event_id, starts_at, ends_at, etag}, or null for a deleted event.',
          details => 'written');
    end;
  end if;
  update private.calendar_jobs j
     set processed_at = private.clock_now(), outcome = 'done', last_error = null, locked_until = null
   where j.id = any(ids);
  return cardinality(ids);
end
$$;
comment on function private.calendar_job_done(uuid, text, jsonb) is 'See public.calendar_job_done.';
revoke execute on function private.calendar_job_done(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function private.calendar_job_done(uuid, text, jsonb) to service_role;

-- Google did not take it: the session's jobs are due again after a back-off (as the busy sync's,
-- with jitter), given up after platform_settings.calendar_job_max_attempts; invalid_grant is the
-- busy sync's rule (private.google_grant_revoked), and the jobs are skipped until a reconnect
-- queues them again.
create or replace function private.calendar_job_failed(for_session_id uuid, worker text, error text, grant_revoked boolean)
returns table (attempts integer, next_attempt_at timestamptz, outcome text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ids bigint[] := private.held_calendar_jobs(for_session_id, worker);
  p public.platform_settings;
  tries integer;
  mentor uuid;
begin
  select * into p from public.platform_settings x where x.id;
  select max(j.attempts), min(j.mentor_id::text)::uuid into tries, mentor from private.calendar_jobs j where j.id = any(ids);
  if calendar_job_failed.grant_revoked then
    perform private.google_grant_revoked(mentor);
  end if;
  return query
    with changed as (
    update private.calendar_jobs j
       set last_error = left(calendar_job_failed.error, 2000), locked_until = null,
           processed_at = case when calendar_job_failed.grant_revoked or tries >= p.calendar_job_max_attempts
                               then private.clock_now() end,
           outcome = case when calendar_job_failed.grant_revoked then 'skipped'
                          when tries >= p.calendar_job_max_attempts then 'gave_up' end,
           next_attempt_at = private.clock_now()
                             + private.message_retry_delay(tries, p.calendar_retry_base_seconds, p.calendar_retry_max_seconds)
     where j.id = any(ids)
    returning j.next_attempt_at, j.outcome)
    select tries, c.next_attempt_at, c.outcome from changed c limit 1;
end
$$;
comment on function private.calendar_job_failed(uuid, text, text, boolean) is 'See public.calendar_job_failed.';
revoke execute on function private.calendar_job_failed(uuid, text, text, boolean) from public, anon, authenticated;
grant execute on function private.calendar_job_failed(uuid, text, text, boolean) to service_role;

-- >>> sql/rules/google/events_api.sql
-- Google Calendar, session events out: the public RPCs the calendar worker calls with the
-- service-role key (claim_calendar_jobs, calendar_job_done, calendar_job_failed). Each reads its
-- arguments and calls its definer in events.sql.

-- The claim's answer gained request_id: a column added to a function's result needs the older
-- shape dropped first (once; re-applying finds the new one and keeps it).
do $$
begin
  if exists (select from pg_catalog.pg_proc p
              where p.oid = pg_catalog.to_regprocedure('public.claim_calendar_jobs(text, text, text)')
                and not 'request_id' = any(p.proargnames)) then
    drop function public.claim_calendar_jobs(text, text, text);
  end if;
end
$$;
create or replace function public.claim_calendar_jobs(worker text default null, max_jobs text default null,
                                                      lease_seconds text default null)
returns table (session_id uuid, mentor_id uuid, job_ids bigint[], attempts integer, action text,
               calendar_id text, written_calendar_id text, event_id text, refresh_token_sealed text,
               key_version integer, summary text, mentor_name text, student_name text,
               starts_at timestamptz, ends_at timestamptz, time_zone text, request_id text)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_calendar_jobs(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_jobs, '20'), 'max_jobs', 1, 500),
    private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_calendar_jobs(text, text, text) is
$$Service role (the calendar worker): claims the pending calendar jobs of up to max_jobs sessions, leased to worker until now + lease_seconds; never a second claim of a session while one is in flight. A session's pending jobs are one claim, answered from the session's current state: action upsert (scheduled, completed, a no-show: the event at starts_at..ends_at) or delete (canceled), calendar_id (the mentor's calendar receiving events), written_calendar_id (where our event is now, null: never written), event_id (base32hex of the session id), the sealed grant, summary, both names, the mentor''s time_zone, request_id (the X-Request-Id of the API request that queued the newest of the jobs, or null). Jobs of a mentor with no connected receiving calendar are finished first (outcome skipped).
Arguments: worker (text, at most 200 characters), max_jobs (1 to 500, default 20), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_calendar_jobs(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_calendar_jobs(text, text, text) to service_role;

create or replace function public.calendar_job_done(for_session_id text default null, worker text default null,
                                                    written jsonb default null)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
begin
  if written is not null and pg_catalog.jsonb_typeof(written) not in ('object', 'null') then
    perform private.refuse(422, 'written must be an object or null',
      hint => 'Send written as {calendar_id, event_id, starts_at, ends_at, etag}, or null for a deleted event.', details => 'written');
  end if;
  return private.calendar_job_done(private.uuid_arg(for_session_id, 'for_session_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    case when pg_catalog.jsonb_typeof(written) = 'object' then written end);
end
$$;
comment on function public.calendar_job_done(text, text, jsonb) is
$$Service role (the calendar worker): the session's claimed jobs are done. written: the event as Google now has it ({calendar_id, event_id, starts_at, ends_at, etag}), kept as what we last wrote; null: the event is gone (deleted, or never there). Answers how many jobs it finished.
Arguments: for_session_id (UUID), worker (the claim's), written (object or null).
Errors: 409 PT409 the claim is not this worker's (lease ran out, or reported already); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_job_done(text, text, jsonb) from public, anon, authenticated;
grant execute on function public.calendar_job_done(text, text, jsonb) to service_role;

create or replace function public.calendar_job_failed(for_session_id text default null, worker text default null,
                                                      error text default null, invalid_grant text default null)
returns table (attempts integer, next_attempt_at timestamptz, outcome text)
language plpgsql
volatile
set search_path = ''
as $$
begin
  if invalid_grant is not null and lower(btrim(invalid_grant)) not in ('true', 'false') then
    perform private.refuse(422, format('invalid_grant: %s is not true or false', private.quoted(invalid_grant)),
      hint => 'Send invalid_grant as true or false.', details => 'invalid_grant');
  end if;
  return query select * from private.calendar_job_failed(private.uuid_arg(for_session_id, 'for_session_id'),
    private.text_arg(worker, 'worker', 200, required => true),
    private.text_arg(error, 'error', 10000, required => true),
    coalesce(lower(btrim(invalid_grant)) = 'true', false));
end
$$;
comment on function public.calendar_job_failed(text, text, text, text) is
$$Service role (the calendar worker): Google did not take the session's claimed jobs. They are due again after a back-off (platform_settings.calendar_retry_*, doubling, with jitter) and given up (outcome gave_up) after calendar_job_max_attempts. invalid_grant true: the grant is marked revoked and the mentor told, as the busy sync does, and the jobs are skipped (a reconnect queues the sessions again).
Arguments: for_session_id (UUID), worker (the claim's), error (text, at most 10000 characters; the first 2000 are kept), invalid_grant (true or false, default false).
Errors: 409 PT409 the claim is not this worker's; 422 PT422 missing or malformed argument.$$;
revoke execute on function public.calendar_job_failed(text, text, text, text) from public, anon, authenticated;
grant execute on function public.calendar_job_failed(text, text, text, text) to service_role;

-- >>> sql/rules/google/my_sync.sql
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

-- >>> sql/rules/google/push.sql
-- Google Calendar, push: what the services call (channels.sql holds the worker's part). Before
-- a removed or replaced grant is revoked, the channels opened with it are listed and reported
-- stopped (google_channels_to_stop, google_channel_stopped); each of Google's notifications
-- (POST /webhooks/google) is checked and makes the mentor's sync due (google_push). The public
-- RPCs are channels_api.sql.


-- The opened channels of the mentor's removed or replaced grant, for the services to stop with
-- that grant (queued in google_revocations) before revoking it.
create or replace function private.google_channels_to_stop(for_mentor_id uuid)
returns table (channel_id uuid, calendar_id text, resource_id text)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id, c.calendar_id, c.resource_id from private.calendar_channels c
   where c.mentor_id = for_mentor_id and c.grant_gone and c.stopped_at is null and c.opened_at is not null
   order by c.id
$$;
comment on function private.google_channels_to_stop(uuid) is 'See public.google_channels_to_stop.';
revoke execute on function private.google_channels_to_stop(uuid) from public, anon, authenticated;
grant execute on function private.google_channels_to_stop(uuid) to service_role;

create or replace function private.google_channel_stopped(for_channel_id uuid, error text)
returns private.calendar_channels
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  c private.calendar_channels;
begin
  update private.calendar_channels x set stopped_at = private.clock_now(), last_error = left(google_channel_stopped.error, 2000)
   where x.id = for_channel_id and x.grant_gone and x.stopped_at is null
  returning * into c;
  if not found then
    perform private.refuse(404, format('no watch channel %s of a removed grant is left to stop', for_channel_id),
      hint => 'List them with google_channels_to_stop.');
  end if;
  return c;
end
$$;
comment on function private.google_channel_stopped(uuid, text) is 'See public.google_channel_stopped.';
revoke execute on function private.google_channel_stopped(uuid, text) from public, anon, authenticated;
grant execute on function private.google_channel_stopped(uuid, text) to service_role;

-- One notification of Google's (POST /webhooks/google): the channel must exist, its token match
-- (compared as sha256, so not in time that depends on the token), the channel not be stopped,
-- and the resource id (once known) be the channel's. `sync` (sent once when the channel opens) is
-- acknowledged; `exists` and `not_exists` make the mentor's sync due now and wake the worker.
create or replace function private.google_push(for_channel_id uuid, token text, resource_id text, resource_state text,
                                               message_number bigint)
returns table (channel_id uuid, mentor_id uuid, sync_due boolean)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  c private.calendar_channels;
  change boolean;
begin
  select * into c from private.calendar_channels x where x.id = for_channel_id;
  if not found then
    perform private.refuse(404, 'no watch channel has the id in X-Goog-Channel-ID', details => 'X-Goog-Channel-ID',
      hint => 'Only channels these services opened are taken.');
  end if;
  if token is null or sha256(convert_to(token, 'UTF8')) <> c.token_sha256 then
    perform private.refuse(403, 'X-Goog-Channel-Token does not match the channel''s token', details => 'X-Goog-Channel-Token',
      hint => 'Google sends the token given at events.watch with every notification.');
  end if;
  if c.stopped_at is not null or c.grant_gone then
    perform private.refuse(410, 'the watch channel was stopped', details => 'X-Goog-Channel-ID',
      hint => 'Its calendar is watched by a newer channel, or no longer.');
  end if;
  if c.resource_id is not null and google_push.resource_id is distinct from c.resource_id then
    perform private.refuse(403, 'X-Goog-Resource-ID is not the resource the channel watches', details => 'X-Goog-Resource-ID',
      hint => 'Google sends the resourceId of the watch''s answer.');
  end if;
  if resource_state is null or resource_state not in ('sync', 'exists', 'not_exists') then
    perform private.refuse(422, 'X-Goog-Resource-State must be sync, exists or not_exists', details => 'X-Goog-Resource-State',
      hint => 'Send the state Google sent.');
  end if;
  change := resource_state <> 'sync';
  update private.calendar_channels x
     set last_message_number = greatest(x.last_message_number, message_number),
         last_change_at = case when change then now_ else x.last_change_at end
   where x.id = for_channel_id;
  if change then
    update private.calendar_sync_state s set next_sync_at = now_
     where s.mentor_id = c.mentor_id and s.next_sync_at > now_;
    perform pg_notify('calendar_sync_due', c.mentor_id::text);
  end if;
  return query select c.id, c.mentor_id, change;
end
$$;
comment on function private.google_push(uuid, text, text, text, bigint) is 'See public.google_push.';
revoke execute on function private.google_push(uuid, text, text, text, bigint) from public, anon, authenticated;
grant execute on function private.google_push(uuid, text, text, text, bigint) to service_role;

-- >>> sql/rules/google/tokens.sql
-- Google Calendar: the sealed grants after connecting. The calendar sync reads a grant
-- (google_credentials_of), the services revoke queued grants at Google (google_revocations_due,
-- google_revoked), `mentorships gcal rotate-key` re-seals them under the newest key
-- (google_tokens_to_reseal, reseal_google_token). Service role only; no rule can open a token.

create or replace function private.google_revocations_due(for_mentor_id text default null)
returns table (revocation_id bigint, mentor_id uuid, refresh_token_sealed text, key_version integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  only_mentor uuid := private.uuid_arg(for_mentor_id, 'for_mentor_id', required => false);
begin
  return query select r.id, r.mentor_id, private.base64_text(r.refresh_token_ciphertext), r.key_version
                 from private.google_revocations r
                where only_mentor is null or r.mentor_id = only_mentor
                order by r.id;
end
$$;
comment on function private.google_revocations_due(text) is 'See public.google_revocations_due.';
revoke execute on function private.google_revocations_due(text) from public, anon, authenticated;
grant execute on function private.google_revocations_due(text) to service_role;

create or replace function public.google_revocations_due(for_mentor_id text default null)
returns table (revocation_id bigint, mentor_id uuid, refresh_token_sealed text, key_version integer)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_revocations_due(for_mentor_id);
end
$$;
comment on function public.google_revocations_due(text) is
$$Service role: the sealed grants waiting to be revoked at Google (for_mentor_id's, or all).
Errors: 422 PT422 malformed for_mentor_id.$$;
revoke execute on function public.google_revocations_due(text) from public, anon, authenticated;
grant execute on function public.google_revocations_due(text) to service_role;

create or replace function private.google_revoked(revocation_id text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  delete from private.google_revocations r
   where r.id = private.integer_arg(revocation_id, 'revocation_id', 1, 2147483647);
  return found;
end
$$;
comment on function private.google_revoked(text) is 'See public.google_revoked.';
revoke execute on function private.google_revoked(text) from public, anon, authenticated;
grant execute on function private.google_revoked(text) to service_role;

create or replace function public.google_revoked(revocation_id text default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.google_revoked(revocation_id);
end
$$;
comment on function public.google_revoked(text) is
$$Service role: Google took the revocation (or already knew the grant dead): its sealed token is deleted. Returns whether it was still there.
Errors: 422 PT422 missing or malformed revocation_id.$$;
revoke execute on function public.google_revoked(text) from public, anon, authenticated;
grant execute on function public.google_revoked(text) to service_role;

create or replace function private.google_credentials_of(for_mentor_id text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, scopes text[],
               calendar_id text, connected_at timestamptz, revoked_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query select g.mentor_id, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.scopes,
                      g.calendar_id, g.connected_at, g.revoked_at
                 from private.google_credentials g
                where g.mentor_id = private.uuid_arg(for_mentor_id, 'for_mentor_id');
end
$$;
comment on function private.google_credentials_of(text) is 'See public.google_credentials_of.';
revoke execute on function private.google_credentials_of(text) from public, anon, authenticated;
grant execute on function private.google_credentials_of(text) to service_role;

create or replace function public.google_credentials_of(for_mentor_id text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, scopes text[],
               calendar_id text, connected_at timestamptz, revoked_at timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_credentials_of(for_mentor_id);
end
$$;
comment on function public.google_credentials_of(text) is
$$Service role (the calendar sync): for_mentor_id's sealed grant (no row when not connected).
Errors: 422 PT422 missing or malformed for_mentor_id.$$;
revoke execute on function public.google_credentials_of(text) from public, anon, authenticated;
grant execute on function public.google_credentials_of(text) to service_role;

-- --- key rotation ----------------------------------------------------------------------------------

create or replace function private.google_tokens_to_reseal(newest_version text default null, max_rows text default null)
returns table (kind text, id text, refresh_token_sealed text, key_version integer, mentor_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  newest integer := private.integer_arg(newest_version, 'newest_version', 1, 1000000);
  n integer := private.integer_arg(max_rows, 'max_rows', 1, 10000);
begin
  return query
    (select 'credential', g.mentor_id::text, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.mentor_id
       from private.google_credentials g where g.key_version <> newest order by g.mentor_id limit n)
    union all
    (select 'revocation', r.id::text, private.base64_text(r.refresh_token_ciphertext), r.key_version, r.mentor_id
       from private.google_revocations r where r.key_version <> newest order by r.id limit n);
end
$$;
comment on function private.google_tokens_to_reseal(text, text) is 'See public.google_tokens_to_reseal.';
revoke execute on function private.google_tokens_to_reseal(text, text) from public, anon, authenticated;
grant execute on function private.google_tokens_to_reseal(text, text) to service_role;

create or replace function public.google_tokens_to_reseal(newest_version text default null, max_rows text default null)
returns table (kind text, id text, refresh_token_sealed text, key_version integer, mentor_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_tokens_to_reseal(newest_version, max_rows);
end
$$;
comment on function public.google_tokens_to_reseal(text, text) is
$$Service role (`mentorships gcal rotate-key`): up to max_rows stored grants and up to max_rows queued revocations not sealed under newest_version.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_tokens_to_reseal(text, text) from public, anon, authenticated;
grant execute on function public.google_tokens_to_reseal(text, text) to service_role;

create or replace function private.reseal_google_token(kind text default null, id text default null,
                                                      previous_sealed text default null,
                                                      refresh_token_sealed text default null,
                                                      key_version text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  previous bytea := private.sealed_arg(previous_sealed, 'previous_sealed');
  sealed bytea := private.sealed_arg(refresh_token_sealed, 'refresh_token_sealed');
  version integer := private.integer_arg(reseal_google_token.key_version, 'key_version', 1, 1000000);
begin
  -- Compare and set: a grant replaced meanwhile (a reconnect) is left as it is.
  if kind = 'credential' then
    update private.google_credentials g set refresh_token_ciphertext = sealed, key_version = version
     where g.mentor_id = private.uuid_arg(reseal_google_token.id, 'id') and g.refresh_token_ciphertext = previous;
  elsif kind = 'revocation' then
    update private.google_revocations r set refresh_token_ciphertext = sealed, key_version = version
     where r.id = private.integer_arg(reseal_google_token.id, 'id', 1, 2147483647) and r.refresh_token_ciphertext = previous;
  else
    perform private.refuse(422, 'kind must be credential or revocation', hint => 'Send kind as google_tokens_to_reseal named it.', details => 'kind');
  end if;
  return found;
end
$$;
comment on function private.reseal_google_token(text, text, text, text, text) is 'See public.reseal_google_token.';
revoke execute on function private.reseal_google_token(text, text, text, text, text) from public, anon, authenticated;
grant execute on function private.reseal_google_token(text, text, text, text, text) to service_role;

create or replace function public.reseal_google_token(kind text default null, id text default null,
                                                      previous_sealed text default null,
                                                      refresh_token_sealed text default null,
                                                      key_version text default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.reseal_google_token(kind, id, previous_sealed, refresh_token_sealed, key_version);
end
$$;
comment on function public.reseal_google_token(text, text, text, text, text) is
$$Service role (`mentorships gcal rotate-key`): replaces one sealed grant by the same token sealed under key_version, if it is still previous_sealed. Returns whether it was replaced.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.reseal_google_token(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.reseal_google_token(text, text, text, text, text) to service_role;

-- >>> sql/rules/input_checks.sql
-- What a client may write directly (the columns sql/rls/ grants), checked before the row is
-- stored: a bad value is a 422 naming the column and the accepted form. The check constraints
-- stay as the last word; these triggers run first so a person reads a message they can act on
-- instead of `violates check constraint "profiles_time_zone_check"`. On update only the
-- columns that change are checked.

-- A single-line name or title: min_length to max_length characters, no control characters
-- (names are shown to other people, so no line breaks either).
create or replace function private.check_name(value text, field text, min_length integer, max_length integer)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is null or length(value) < min_length or length(value) > max_length then
    perform private.refuse(422,
      format('%s must be %s to %s characters long (got %s)', field, min_length, max_length, coalesce(length(value), 0)),
      hint => format('Send %s as one line of %s to %s characters.', field, min_length, max_length), details => field);
  end if;
  if value ~ '[[:cntrl:]\u0080-\u009f\u2028\u2029]' then
    perform private.refuse(422, format('%s contains control characters or line breaks', field),
      hint => format('Send %s as one line of plain text.', field), details => field);
  end if;
end
$$;
comment on function private.check_name(text, text, integer, integer) is
  'Refuses (422 naming field) a name that is too short, too long, or holds control characters or line breaks.';
revoke execute on function private.check_name(text, text, integer, integer) from public;
grant execute on function private.check_name(text, text, integer, integer) to authenticated, service_role;

-- Longer text (a bio, a description): at most max_length characters; line breaks and tabs are
-- fine, other control characters are not.
create or replace function private.check_prose(value text, field text, max_length integer)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is not null and length(value) > max_length then
    perform private.refuse(422, format('%s is longer than %s characters (%s)', field, max_length, length(value)),
      hint => format('Shorten %s to at most %s characters.', field, max_length), details => field);
  end if;
  if value ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\u0080-\u009f]' then
    perform private.refuse(422, format('%s contains control characters', field),
      hint => format('Send %s as plain text (line breaks and tabs are fine).', field), details => field);
  end if;
end
$$;
comment on function private.check_prose(text, text, integer) is
  'Refuses (422 naming field) text longer than max_length or holding control characters other than line breaks and tabs.';
revoke execute on function private.check_prose(text, text, integer) from public;
grant execute on function private.check_prose(text, text, integer) to authenticated, service_role;

create or replace function private.check_whole_number(value bigint, field text, lo integer, hi integer)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is null or value < lo or value > hi then
    perform private.refuse(422, format('%s must be a whole number from %s to %s (got %s)', field, lo, hi,
                                       coalesce(value::text, 'null')),
      hint => format('Send %s as a whole number from %s to %s.', field, lo, hi), details => field);
  end if;
end
$$;
comment on function private.check_whole_number(bigint, text, integer, integer) is
  'Refuses (422 naming field) a missing number or one outside [lo, hi].';
revoke execute on function private.check_whole_number(bigint, text, integer, integer) from public;
grant execute on function private.check_whole_number(bigint, text, integer, integer) to authenticated, service_role;

create or replace function private.check_time_zone(value text, field text)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if not private.is_valid_time_zone(value) then
    perform private.refuse(422,
      format('%s: %s is not an IANA time zone name such as "Europe/Berlin"', field, private.quoted(value)),
      hint => format('Send %s as an IANA name (Area/City, e.g. "America/New_York", or "UTC"); offsets such as "UTC+5" are not zone names.', field),
      details => field);
  end if;
end
$$;
comment on function private.check_time_zone(text, text) is
  'Refuses (422 naming field) anything but an IANA time zone name Postgres knows.';
revoke execute on function private.check_time_zone(text, text) from public;
grant execute on function private.check_time_zone(text, text) to authenticated, service_role;

create or replace function private.check_https_url(value text, field text)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is not null and (value !~ '^https://[^[:space:][:cntrl:]]+$' or length(value) > 2000) then
    perform private.refuse(422, format('%s: %s is not an https:// URL', field, private.quoted(value)),
      hint => format('Send %s as an https:// URL of at most 2000 characters without spaces, or null.', field),
      details => field);
  end if;
end
$$;
comment on function private.check_https_url(text, text) is
  'Refuses (422 naming field) a value that is not an https:// URL of at most 2000 characters.';
revoke execute on function private.check_https_url(text, text) from public;
grant execute on function private.check_https_url(text, text) to authenticated, service_role;

create or replace function private.check_currency(value text, field text)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value !~ '^[a-z]{3}$' then
    perform private.refuse(422, format('%s: %s is not a currency code such as "usd"', field, private.quoted(value)),
      hint => format('Send %s as an ISO 4217 code in lower case, e.g. "usd" or "eur".', field), details => field);
  end if;
end
$$;
comment on function private.check_currency(text, text) is
  'Refuses (422 naming field) anything but a three-letter lower-case ISO 4217 code.';
revoke execute on function private.check_currency(text, text) from public;
grant execute on function private.check_currency(text, text) to authenticated, service_role;

-- An instant a person sets (a promotion's window): finite, in the years 2000 to 2199.
create or replace function private.check_instant(value timestamptz, field text)
returns void
language plpgsql
stable
parallel safe
set search_path = ''
as $$
begin
  if value is not null and (not isfinite(value) or value < '2000-01-01 00:00:00+00'
                            or value >= '2200-01-01 00:00:00+00') then
    perform private.refuse(422, format('%s: %s is not an instant between the years 2000 and 2199', field, value),
      hint => format('Send %s as an ISO 8601 instant with its UTC offset, e.g. "2026-12-03T14:00:00Z", or null for no limit.', field),
      details => field);
  end if;
end
$$;
comment on function private.check_instant(timestamptz, text) is
  'Refuses (422 naming field) infinity and instants outside the years 2000 to 2199.';
revoke execute on function private.check_instant(timestamptz, text) from public;
grant execute on function private.check_instant(timestamptz, text) to authenticated, service_role;

-- --- profiles -------------------------------------------------------------------------------

create or replace function private.tg_profiles__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' or new.display_name is distinct from old.display_name then
    perform private.check_name(new.display_name, 'display_name', 0, 100);
  end if;
  if tg_op = 'INSERT' or new.time_zone is distinct from old.time_zone then
    perform private.check_time_zone(new.time_zone, 'time_zone');
  end if;
  if new.discord_user_id is not null and (tg_op = 'INSERT' or new.discord_user_id is distinct from old.discord_user_id)
     and new.discord_user_id !~ '^[0-9]{17,20}$' then
    perform private.refuse(422, format('discord_user_id: %s is not a Discord user id', private.quoted(new.discord_user_id)),
      hint => 'A Discord user id is 17 to 20 digits; it is set by linking Discord (GET /oauth/discord/start), never typed in.',
      details => 'discord_user_id');
  end if;
  return new;
end
$$;
comment on function private.tg_profiles__check_input() is
  'Refuses (422 naming the column) a display name, time zone or Discord id a client may not store.';
revoke execute on function private.tg_profiles__check_input() from public, anon;

drop trigger if exists _050_check_input on public.profiles;
create trigger _050_check_input
  before insert or update of display_name, time_zone, discord_user_id on public.profiles
  for each row execute function private.tg_profiles__check_input();

-- --- mentors --------------------------------------------------------------------------------

create or replace function private.tg_mentors__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  ins constant boolean := tg_op = 'INSERT';
begin
  if ins or new.public_name is distinct from old.public_name then
    perform private.check_name(new.public_name, 'public_name', 1, 100);
  end if;
  if ins or new.headline is distinct from old.headline then
    perform private.check_name(new.headline, 'headline', 0, 200);
  end if;
  if ins or new.bio is distinct from old.bio then
    perform private.check_prose(new.bio, 'bio', 5000);
  end if;
  if ins or new.avatar_url is distinct from old.avatar_url then
    perform private.check_https_url(new.avatar_url, 'avatar_url');
  end if;
  if ins or new.portfolio_url is distinct from old.portfolio_url then
    perform private.check_https_url(new.portfolio_url, 'portfolio_url');
  end if;
  if ins or new.time_zone is distinct from old.time_zone then
    perform private.check_time_zone(new.time_zone, 'time_zone');
  end if;
  if (ins or new.working_hours is distinct from old.working_hours)
     and not private.is_valid_working_hours(new.working_hours) then
    perform private.refuse(422,
      'working_hours must be a list of {"weekday", "start", "end"} windows',
      hint => 'Send working_hours as a JSON array (at most 50) of {"weekday": 1 to 7 (1 = Monday), "start": "HH:MM", "end": "HH:MM" or "24:00"} in your own time zone, each start before its end, windows of one day not overlapping, e.g. [{"weekday": 1, "start": "09:00", "end": "17:00"}].',
      details => 'working_hours');
  end if;
  return new;
end
$$;
comment on function private.tg_mentors__check_input() is
  'Refuses (422 naming the column) a public profile value, zone or working hours a mentor may not store.';
revoke execute on function private.tg_mentors__check_input() from public, anon;

drop trigger if exists _050_check_input on public.mentors;
create trigger _050_check_input
  before insert or update of public_name, headline, bio, avatar_url, portfolio_url, time_zone, working_hours
  on public.mentors
  for each row execute function private.tg_mentors__check_input();

-- --- mentorship_products --------------------------------------------------------------------

create or replace function private.tg_mentorship_products__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  ins constant boolean := tg_op = 'INSERT';
begin
  if ins or new.title is distinct from old.title then
    perform private.check_name(new.title, 'title', 1, 120);
  end if;
  if ins or new.description is distinct from old.description then
    perform private.check_prose(new.description, 'description', 5000);
  end if;
  if ins or new.sessions_count is distinct from old.sessions_count then
    perform private.check_whole_number(new.sessions_count, 'sessions_count', 1, 52);
  end if;
  if ins or new.validity_days is distinct from old.validity_days then
    perform private.check_whole_number(new.validity_days, 'validity_days', 1, 730);
  end if;
  if ins or new.price_cents is distinct from old.price_cents then
    perform private.check_whole_number(new.price_cents, 'price_cents', 0, 100000000);
  end if;
  if ins or new.currency is distinct from old.currency then
    perform private.check_currency(new.currency, 'currency');
  end if;
  return new;
end
$$;
comment on function private.tg_mentorship_products__check_input() is
  'Refuses (422 naming the column) a product title, description, size, validity, price or currency out of bounds.';
revoke execute on function private.tg_mentorship_products__check_input() from public, anon;

drop trigger if exists _050_check_input on public.mentorship_products;
create trigger _050_check_input
  before insert or update of title, description, sessions_count, validity_days, price_cents, currency
  on public.mentorship_products
  for each row execute function private.tg_mentorship_products__check_input();

-- --- promotion_codes ------------------------------------------------------------------------

create or replace function private.tg_promotion_codes__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  ins constant boolean := tg_op = 'INSERT';
begin
  if ins and (new.code is null or new.code !~ '^[A-Z0-9][A-Z0-9_-]{2,39}$') then
    perform private.refuse(422, format('code: %s is not a promotion code', private.quoted(new.code)),
      hint => 'Send code as 3 to 40 capital letters, digits, "-" or "_", starting with a letter or digit, e.g. "SPRING-25".',
      details => 'code');
  end if;
  if ins and (new.percent_off is null) = (new.amount_off_cents is null) then
    perform private.refuse(422, 'send either percent_off or amount_off_cents, not both or neither',
      hint => 'percent_off: 1 to 100; amount_off_cents: a positive amount in minor units with its currency.',
      details => 'percent_off');
  end if;
  if new.percent_off is not null and (ins or new.percent_off is distinct from old.percent_off) then
    perform private.check_whole_number(new.percent_off, 'percent_off', 1, 100);
  end if;
  if new.amount_off_cents is not null and (ins or new.amount_off_cents is distinct from old.amount_off_cents) then
    perform private.check_whole_number(new.amount_off_cents, 'amount_off_cents', 1, 100000000);
  end if;
  if ins and (new.amount_off_cents is null) <> (new.currency is null) then
    perform private.refuse(422, 'currency goes with amount_off_cents, and only with it',
      hint => 'Send currency (e.g. "usd") with amount_off_cents; leave it out with percent_off.', details => 'currency');
  end if;
  if new.currency is not null and (ins or new.currency is distinct from old.currency) then
    perform private.check_currency(new.currency, 'currency');
  end if;
  if ins or new.valid_from is distinct from old.valid_from then
    perform private.check_instant(new.valid_from, 'valid_from');
  end if;
  if ins or new.valid_until is distinct from old.valid_until then
    perform private.check_instant(new.valid_until, 'valid_until');
  end if;
  if new.valid_until is not null and new.valid_until <= new.valid_from then
    perform private.refuse(422, format('valid_until (%s) must be after valid_from (%s)', new.valid_until, new.valid_from),
      hint => 'Send a valid_until after valid_from, or null for no end.', details => 'valid_until');
  end if;
  if new.max_redemptions is not null and (ins or new.max_redemptions is distinct from old.max_redemptions) then
    perform private.check_whole_number(new.max_redemptions, 'max_redemptions', 1, 1000000);
  end if;
  return new;
end
$$;
comment on function private.tg_promotion_codes__check_input() is
  'Refuses (422 naming the column) a promotion code, discount, currency, validity window or redemption limit out of bounds.';
revoke execute on function private.tg_promotion_codes__check_input() from public, anon;

drop trigger if exists _050_check_input on public.promotion_codes;
create trigger _050_check_input
  before insert or update on public.promotion_codes
  for each row execute function private.tg_promotion_codes__check_input();

-- --- platform_settings ----------------------------------------------------------------------

create or replace function private.tg_platform_settings__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.check_whole_number(new.seat_hold_minutes, 'seat_hold_minutes', 5, 240);
  perform private.check_whole_number(new.grace_period_hours, 'grace_period_hours', 0, 720);
  perform private.check_whole_number(new.grace_warning_hours, 'grace_warning_hours', 0, 720);
  if new.grace_warning_hours > new.grace_period_hours then
    perform private.refuse(422,
      format('grace_warning_hours (%s) must not exceed grace_period_hours (%s)', new.grace_warning_hours, new.grace_period_hours),
      hint => 'The warning goes out that many hours before the grace period ends.', details => 'grace_warning_hours');
  end if;
  perform private.check_whole_number(new.cancel_notice_hours, 'cancel_notice_hours', 0, 336);
  perform private.check_whole_number(new.video_join_early_minutes, 'video_join_early_minutes', 0, 120);
  perform private.check_whole_number(new.video_join_late_minutes, 'video_join_late_minutes', 0, 120);
  perform private.check_whole_number(new.default_sessions_per_pack, 'default_sessions_per_pack', 1, 52);
  perform private.check_whole_number(new.default_pack_validity_days, 'default_pack_validity_days', 1, 730);
  perform private.check_currency(new.default_currency, 'default_currency');
  perform private.check_whole_number(new.report_build_interval_minutes, 'report_build_interval_minutes', 5, 10080);
  perform private.check_whole_number(new.report_full_build_hours, 'report_full_build_hours', 1, 720);
  return new;
end
$$;
comment on function private.tg_platform_settings__check_input() is
  'Refuses (422 naming the column) a platform setting out of its bounds.';
revoke execute on function private.tg_platform_settings__check_input() from public, anon;

drop trigger if exists _050_check_input on public.platform_settings;
create trigger _050_check_input
  before insert or update on public.platform_settings
  for each row execute function private.tg_platform_settings__check_input();

-- --- notification_preferences ---------------------------------------------------------------

create or replace function private.tg_notification_preferences__check_input()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- private.message_kind_optional (sql/rules/preferences.sql) says which kinds may be turned off
  if tg_op = 'INSERT' or new.kind is distinct from old.kind then
    perform private.check_optional_kind(new.kind, 'kind');
  end if;
  return new;
end
$$;
comment on function private.tg_notification_preferences__check_input() is
  'Refuses (422 naming kind, listing the kinds that may be) a preference for a kind of message that may not be turned off.';
revoke execute on function private.tg_notification_preferences__check_input() from public, anon;

drop trigger if exists _050_check_input on public.notification_preferences;
create trigger _050_check_input
  before insert or update of kind on public.notification_preferences
  for each row execute function private.tg_notification_preferences__check_input();

-- >>> sql/rules/jobs.sql
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

-- >>> sql/rules/ledger.sql
-- Credits move only through the append-only ledger. Inserting entries moves each pack's
-- remaining_sessions once per statement, by the sum of that statement's entries (a statement
-- trigger over the transition table, so multi-row inserts work); the pack's check constraint
-- (remaining >= 0) refuses entries that would take it below zero.
create or replace function private.tg__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform private.refuse(403, format('%s is append-only: %s is not allowed', tg_table_name, lower(tg_op)), hint => 'Add a new entry instead.');
  return null;  -- not reached: refuse raises (plpgsql_check cannot know that)
end
$$;
comment on function private.tg__forbid_change() is 'Refuses update, delete and truncate on append-only tables.';
revoke execute on function private.tg__forbid_change() from public, anon, authenticated;

do $$
declare
  t text;
begin
  foreach t in array array['public.session_credit_ledger', 'public.audit_log'] loop
    execute format('drop trigger if exists _100_append_only on %s', t);
    execute format(
      'create trigger _100_append_only before update or delete on %s '
      'for each row execute function private.tg__forbid_change()', t);
    execute format('drop trigger if exists _101_append_only_truncate on %s', t);
    execute format(
      'create trigger _101_append_only_truncate before truncate on %s '
      'for each statement execute function private.tg__forbid_change()', t);
  end loop;
end
$$;

create or replace function private.tg_session_credit_ledger__apply()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.session_packs p
     set remaining_sessions = p.remaining_sessions + n.delta
    from (select e.pack_id, sum(e.delta)::integer as delta
            from new_entries e group by e.pack_id) n
   where p.id = n.pack_id;
  return null;
end
$$;
comment on function private.tg_session_credit_ledger__apply() is
  'Moves each pack''s remaining_sessions by the sum of the statement''s new entries for it.';
revoke execute on function private.tg_session_credit_ledger__apply() from public, anon, authenticated;

drop trigger if exists _100_apply on public.session_credit_ledger;
create trigger _100_apply
  after insert on public.session_credit_ledger
  referencing new table as new_entries
  for each statement execute function private.tg_session_credit_ledger__apply();

-- remaining_sessions never moves except through a ledger entry.
create or replace function private.tg_session_packs__guard_remaining()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if new.remaining_sessions <> new.sessions_total then
      perform private.refuse(422, format('a new pack starts with remaining_sessions = sessions_total (%s)', new.sessions_total));
    end if;
  elsif new.sessions_total <> old.sessions_total then
    perform private.refuse(403, 'sessions_total is fixed at purchase', hint => 'Add or remove credits through session_credit_ledger.');
  elsif new.remaining_sessions <> old.remaining_sessions
        and new.remaining_sessions <> new.sessions_total + (
          select coalesce(sum(l.delta), 0) from public.session_credit_ledger l where l.pack_id = new.id) then
    -- Checked against the ledger itself, so no setting or role can switch it off.
    perform private.refuse(403, 'remaining_sessions changes only through session_credit_ledger', hint => 'Insert a ledger entry (or call the RPC that does).');
  end if;
  return new;
end
$$;
comment on function private.tg_session_packs__guard_remaining() is
  'Keeps remaining_sessions equal to sessions_total plus the pack''s ledger entries.';
revoke execute on function private.tg_session_packs__guard_remaining() from public, anon, authenticated;

drop trigger if exists _100_guard_remaining on public.session_packs;
create trigger _100_guard_remaining
  before insert or update on public.session_packs
  for each row execute function private.tg_session_packs__guard_remaining();

-- >>> sql/rules/mentor_settings.sql
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

-- >>> sql/rules/notify.sql
-- The outbox: every message is queued in the same transaction as the change that causes it,
-- one row per channel (email always; Discord when the person linked an account) unless the
-- person turned that kind off on that channel (public.notification_preferences, only for kinds
-- private.message_kind_optional allows: sql/rules/preferences.sql), deduplicated by event key so
-- that a retried change queues nothing twice.
-- (The single-recipient version it replaced.)
drop function if exists private.notify(uuid, public.notification_kind, text, jsonb, timestamptz, uuid, uuid);

-- Several messages to the same people in one insert: message i is (kinds[i], event_keys[i],
-- send_afters[i], null for now), all with the same payload. A booking queues its confirmation and
-- both reminders this way, one statement instead of three. A recipient who is not a person (null,
-- or deleted meanwhile) is skipped: the outbox has no foreign keys (see migration
-- 20261121140000_queue_links.sql), and a person's messages go with them (below).
create or replace function private.notify_many(
  recipient_ids uuid[],
  kinds public.notification_kind[],
  event_keys text[],
  send_afters timestamptz[],
  payload jsonb default '{}',
  session_id uuid default null,
  pack_id uuid default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
-- The insert's generic plan is the right one, but the plan cache would price it for arrays of
-- unknown length against custom plans for two recipients and plan it again at every call
-- (~0.3 ms, more than the insert).
set plan_cache_mode = force_generic_plan
as $$
declare
  now_ timestamptz := private.clock_now();
  queued integer;
begin
  -- created_at given too: the instant read above, not the column's default, which would read the
  -- clock again for every message (~8 us each, nine per booking)
  insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload, send_after, session_id, pack_id,
                                    created_at)
  select r.id, msg.kind, c.channel,
         msg.event_key || ':' || r.id || ':' || c.channel,
         coalesce(notify_many.payload, '{}'), coalesce(msg.send_after, now_),
         notify_many.session_id, notify_many.pack_id, now_
    from pg_catalog.unnest(notify_many.recipient_ids) r (id)
   -- how many channels the person has: 0 (no such person: skipped), 1 (email) or 2 (and Discord);
   -- a subquery per recipient, so the plan reads profiles by primary key whatever its size
   cross join lateral (
     select (select case when p.discord_user_id is null then 1 else 2 end
               from public.profiles p where p.id = r.id) as channels) k
   cross join (values ('email'::public.notification_channel, 1), ('discord'::public.notification_channel, 2)) c (channel, rank)
   cross join rows from (pg_catalog.unnest(notify_many.kinds), pg_catalog.unnest(notify_many.event_keys),
                         pg_catalog.unnest(notify_many.send_afters)) msg (kind, event_key, send_after)
   where c.rank <= k.channels
     -- the person turned this kind off on this channel (a kind that is no longer optional is
     -- sent whatever an old preference says)
     and not (private.message_kind_optional(msg.kind)
              and exists (select from public.notification_preferences np
                           where np.user_id = r.id and np.kind = msg.kind and np.channel = c.channel
                             and not np.enabled))
  on conflict (dedupe_key) do nothing;
  get diagnostics queued = row_count;
  return queued;
end
$$;
comment on function private.notify_many(uuid[], public.notification_kind[], text[], timestamptz[], jsonb, uuid, uuid) is
  'Queues messages (kinds, event_keys, send_afters: one entry each) to every recipient on every channel they have and did not turn that kind off on, in one insert; event keys make it idempotent.';
revoke execute on function private.notify_many(uuid[], public.notification_kind[], text[], timestamptz[], jsonb, uuid, uuid)
  from public, anon, authenticated;

create or replace function private.notify(
  recipient_ids uuid[],
  kind public.notification_kind,
  event_key text,
  payload jsonb default '{}',
  send_after timestamptz default null,
  session_id uuid default null,
  pack_id uuid default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return private.notify_many(recipient_ids, array[kind], array[event_key], array[send_after], payload,
                             session_id, pack_id);
end
$$;
comment on function private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid) is
  'Queues one message per recipient and channel (skipping the channels where they turned this kind off); the event key makes it idempotent.';
revoke execute on function private.notify(uuid[], public.notification_kind, text, jsonb, timestamptz, uuid, uuid)
  from public, anon, authenticated;

create or replace function private.session_payload(s public.sessions)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'session_id', s.id, 'pack_id', s.pack_id, 'mentor_id', s.mentor_id, 'student_id', s.student_id,
    'mentor_name', (select m.public_name from public.mentors m where m.id = s.mentor_id),
    'student_name', (select p.display_name from public.profiles p where p.id = s.student_id),
    'starts_at', s.starts_at, 'ends_at', s.ends_at, 'status', s.status);
end
$$;
comment on function private.session_payload(public.sessions) is
  'Template data for a session message (times in UTC; the dispatcher renders them in the reader''s zone).';
revoke execute on function private.session_payload(public.sessions) from public, anon, authenticated;

-- A session's change message (booked, rescheduled) and its reminders 24 h and 1 h before the
-- start, to both participants, in one insert; no reminder whose time has passed (one due this
-- instant still goes out). The reminder keys carry the reschedule count, so a moved session gets
-- fresh reminders.
-- (The versions it replaced.)
drop function if exists private.queue_reminders(public.sessions);
drop function if exists private.queue_reminders(public.sessions, jsonb);

create or replace function private.queue_session_messages(
  s public.sessions, payload jsonb, kind public.notification_kind, event_key text)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  kinds public.notification_kind[] := array[kind];
  keys text[] := array[event_key];
  send_afters timestamptz[] := array[null::timestamptz];
begin
  if s.starts_at - interval '24 hours' >= now_ then
    kinds := kinds || 'session_reminder_24h'::public.notification_kind;
    keys := keys || format('session:%s:v%s:session_reminder_24h', s.id, s.reschedule_count);
    send_afters := send_afters || (s.starts_at - interval '24 hours');
  end if;
  if s.starts_at - interval '1 hour' >= now_ then
    kinds := kinds || 'session_reminder_1h'::public.notification_kind;
    keys := keys || format('session:%s:v%s:session_reminder_1h', s.id, s.reschedule_count);
    send_afters := send_afters || (s.starts_at - interval '1 hour');
  end if;
  return private.notify_many(array[s.student_id, s.mentor_id], kinds, keys, send_afters, payload, s.id);
end
$$;
comment on function private.queue_session_messages(public.sessions, jsonb, public.notification_kind, text) is
  'Queues a session''s change message (kind, event_key; sent now) and its 24 h and 1 h reminders for its student and mentor (payload: its session_payload).';
revoke execute on function private.queue_session_messages(public.sessions, jsonb, public.notification_kind, text)
  from public, anon, authenticated;

create or replace function private.void_reminders(session_id uuid)
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
   where n.session_id = void_reminders.session_id
     and n.kind in ('session_reminder_24h', 'session_reminder_1h')
     and n.status = 'pending';
  get diagnostics voided = row_count;
  return voided;
end
$$;
comment on function private.void_reminders(uuid) is 'Voids the pending reminders of a session (canceled, moved or over).';
revoke execute on function private.void_reminders(uuid) from public, anon, authenticated;

-- "One session left": when a pack's credits drop to one.
create or replace function private.tg_session_packs__one_session_left()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.notify(array[new.student_id], 'one_session_left', format('pack:%s:one_session_left', new.id),
                         jsonb_build_object('pack_id', new.id, 'mentor_id', new.mentor_id,
                                            'remaining_sessions', new.remaining_sessions),
                         null, null, new.id);
  return null;
end
$$;
comment on function private.tg_session_packs__one_session_left() is
  'Queues the one-session-left message when remaining_sessions drops to 1.';
revoke execute on function private.tg_session_packs__one_session_left() from public, anon, authenticated;

drop trigger if exists _200_one_session_left on public.session_packs;
create trigger _200_one_session_left
  after update of remaining_sessions on public.session_packs
  for each row when (new.remaining_sessions = 1 and old.remaining_sessions > 1)
  execute function private.tg_session_packs__one_session_left();

-- A person's messages go with them (the outbox has no foreign key to do it).
create or replace function private.tg_profiles__delete_messages()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.notifications n where n.recipient_id = old.id;
  return null;
end
$$;
comment on function private.tg_profiles__delete_messages() is 'Deletes the messages of a deleted person.';
revoke execute on function private.tg_profiles__delete_messages() from public, anon, authenticated;

drop trigger if exists _200_delete_messages on public.profiles;
create trigger _200_delete_messages
  after delete on public.profiles
  for each row execute function private.tg_profiles__delete_messages();

-- >>> sql/rules/ops_health.sql
-- The platform's health in one read (issue 15): what the services' /metrics and `mentorships
-- status` show. Counts of the outbox, the calendar jobs and the webhook inbox, the oldest due
-- item's wait, each connected mentor's calendar sync lag and the reports' age, all against the
-- rules' clock (private.clock_now(), so a frozen test or demo clock reads as the rules see it).
-- Only the service role and admins (anyone else: 403). About 150 ms over PostgREST with 2M
-- messages in the outbox on an idle machine (one pass over it; the rest reads partial indexes).

create or replace function private.ops_health()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  outbox jsonb;
  messages jsonb;
  calendar jsonb;
  jobs jsonb;
  reports jsonb;
  webhooks jsonb;
  failed bigint;
  sent bigint;
begin
  if not ((select auth.role()) = 'service_role' or private.is_admin()) then
    perform private.refuse(403, 'only admins and the service role may read the platform''s health',
                           hint => 'Sign in with an admin account, or call with the service-role key.');
  end if;

  -- The outbox is read once, counted by channel and status (sent and failed come from these
  -- counts); the pending messages are read alone, from the partial index the claim uses.
  select coalesce(jsonb_agg(jsonb_build_object('channel', c.channel, 'status', c.status, 'count', c.n)
                            order by c.channel::text, c.status::text), '[]'::jsonb),
         coalesce(sum(c.n) filter (where c.status = 'failed'), 0),
         coalesce(sum(c.n) filter (where c.status = 'sent'), 0)
    into messages, failed, sent
    from (select n.channel, n.status, count(*) as n from public.notifications n group by n.channel, n.status) c;

  select jsonb_build_object(
           'pending', count(*),
           'due', count(*) filter (where greatest(n.send_after, n.next_attempt_at) <= now_),
           'oldest_due_age_seconds', extract(epoch from now_ - min(greatest(n.send_after, n.next_attempt_at))
                                       filter (where greatest(n.send_after, n.next_attempt_at) <= now_))::float8,
           'failed', failed,
           'sent', sent)
    into outbox
    from public.notifications n
   where n.status = 'pending';

  select coalesce(jsonb_agg(jsonb_build_object('mentor_id', g.mentor_id, 'lag_seconds', g.lag)
                            order by g.lag desc nulls first, g.mentor_id), '[]'::jsonb)
    into calendar
    from (select c.mentor_id, (case when s.last_synced_at is not null
                         then greatest(0, extract(epoch from now_ - s.last_synced_at)) end)::float8 as lag
            from private.google_credentials c
            left join private.calendar_sync_state s on s.mentor_id = c.mentor_id) g;

  select jsonb_build_object(
           'pending', count(*) filter (where j.processed_at is null),
           'due', count(*) filter (where j.processed_at is null and coalesce(j.next_attempt_at, j.requested_at) <= now_
                                   and (j.locked_until is null or j.locked_until <= now_)),
           'oldest_due_age_seconds', extract(epoch from now_ - min(coalesce(j.next_attempt_at, j.requested_at))
                                       filter (where j.processed_at is null and coalesce(j.next_attempt_at, j.requested_at) <= now_
                                               and (j.locked_until is null or j.locked_until <= now_)))::float8,
           'failed', count(*) filter (where j.outcome = 'gave_up'))
    into jobs
    from private.calendar_jobs j
   where j.processed_at is null or j.outcome = 'gave_up';

  select jsonb_build_object(
           'last_succeeded_at', r.last_at,
           'age_seconds', (case when r.last_at is not null then greatest(0, extract(epoch from now_ - r.last_at)) end)::float8,
           'running', exists (select from public.report_runs x where x.outcome = 'running'))
    into reports
    from (select max(x.finished_at) as last_at from public.report_runs x where x.outcome = 'succeeded') r;

  select coalesce(jsonb_agg(jsonb_build_object('provider', w.provider, 'status', w.status, 'count', w.n)
                            order by w.provider::text, w.status), '[]'::jsonb)
    into webhooks
    from (select e.provider, coalesce(e.outcome, 'received') as status, count(*) as n
            from private.webhook_events e group by 1, 2) w;

  return jsonb_build_object('at', now_, 'outbox', outbox, 'messages', messages, 'calendar', calendar,
                            'calendar_jobs', jobs, 'reports', reports, 'webhooks', webhooks);
end
$$;
comment on function private.ops_health() is 'See public.ops_health.';
-- anon too: so that anyone else is answered 403 in the project's shape, not PostgREST's 401.
revoke execute on function private.ops_health() from public;
grant execute on function private.ops_health() to anon, authenticated, service_role;

create or replace function public.ops_health()
returns jsonb
language sql
stable
set search_path = ''
as $$ select private.ops_health() $$;
comment on function public.ops_health() is
$$Service role and admins: the platform's health as one object, against the rules' clock: {"at", "outbox": {pending, due, oldest_due_age_seconds, failed, sent} (public.notifications; due: pending and due now), "messages": [{channel, status, count}], "calendar": [{mentor_id, lag_seconds}] (every mentor with a Google connection; lag since the last successful sync, null if never; largest first), "calendar_jobs": {pending, due, oldest_due_age_seconds, failed (gave up)}, "reports": {last_succeeded_at, age_seconds, running}, "webhooks": [{provider, status (the outcome, received while unprocessed), count}]}. Ages are seconds, null when there is nothing to measure.
Arguments: none.
Errors: 403 PT403 neither an admin nor the service role.$$;
revoke execute on function public.ops_health() from public;
grant execute on function public.ops_health() to anon, authenticated, service_role;

-- >>> sql/rules/outbox.sql
-- Delivering the outbox (public.notifications): the dispatcher worker claims due messages under a
-- lease, sends them and reports each one sent or failed. Claiming, retrying and giving up are
-- rules, so they are here; the worker holds nothing a restart would lose.
--
--   pending --claim--> sending --notification_sent--> sent
--                         |----notification_failed--> pending (retry at next_attempt_at)
--                         |                           failed (permanent, or the last attempt)
--                         '----lease ran out--------> pending (or failed after the last attempt)
--   pending --claim--> voided (a session message whose session was canceled or moved)
--
-- The worker calls the public RPCs below with the service-role key (through PostgREST, like the
-- webhooks; a direct connection works the same); each reads its arguments and calls its
-- security definer in private. They live here rather than in api.sql because only the service
-- role may call them, and the dispatcher's rules read best in one file.

-- The delay before retrying a message whose attempt number `attempts` failed:
-- d = min(base * 2^(attempts - 1), max) seconds, of which the second half is drawn at random
-- (the delay is in [d/2, d]), so that messages failing together do not retry together, and
-- every delay is at least as long as the full delay of the attempt before.
create or replace function private.message_retry_delay(attempts integer, base_seconds integer, max_seconds integer)
returns interval
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  full_delay double precision := least(max_seconds::double precision,
                                       base_seconds * pg_catalog.power(2::double precision, greatest(attempts, 1) - 1));
begin
  return make_interval(secs => full_delay / 2 + pg_catalog.random() * full_delay / 2);
end
$$;
comment on function private.message_retry_delay(integer, integer, integer) is
  'The delay before the next attempt after attempt number `attempts` failed: in [d/2, d], d = min(base * 2^(attempts-1), max) seconds.';
revoke execute on function private.message_retry_delay(integer, integer, integer) from public, anon, authenticated;
grant execute on function private.message_retry_delay(integer, integer, integer) to service_role;

-- A message fails for good: status failed, and every admin is told once (the event key is the
-- message's id). A delivery_failed message that fails tells nobody, so that an admin whose own
-- address bounces does not start a chain of them.
create or replace function private.give_up_notification(notification_id bigint, error text)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
begin
  update public.notifications x
     set status = 'failed', locked_until = null, last_error = left(give_up_notification.error, 2000)
   where x.id = give_up_notification.notification_id
  returning * into n;
  if n.kind <> 'delivery_failed' then
    perform private.notify(private.admin_ids(), 'delivery_failed', format('notification:%s:delivery_failed', n.id),
                           jsonb_build_object('notification_id', n.id, 'kind', n.kind, 'channel', n.channel,
                                              'recipient_id', n.recipient_id, 'attempts', n.attempts,
                                              'error', n.last_error, 'session_id', n.session_id),
                           null, n.session_id, n.pack_id);
  end if;
  return n;
end
$$;
comment on function private.give_up_notification(bigint, text) is
  'Marks a message failed for good with its last error and tells the admins once (delivery_failed).';
revoke execute on function private.give_up_notification(bigint, text) from public, anon, authenticated;
grant execute on function private.give_up_notification(bigint, text) to service_role;

create or replace function private.claim_notifications(worker text, max_messages integer, lease_seconds integer)
returns setof public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  max_attempts integer := (select s.message_max_attempts from public.platform_settings s where s.id);
  wanted integer := max_messages;
  asked integer;
  picked bigint[];
  claimed integer;
  voided integer;
  expired record;
begin
  -- Leases that ran out (their worker died or hung): back to pending, or failed when that was
  -- the last attempt (a message that kills its worker every time must not loop for ever).
  for expired in
    select x.id, x.attempts, x.claimed_by from public.notifications x
     where x.status = 'sending' and x.locked_until <= now_
     order by x.locked_until
       for update skip locked
  loop
    if expired.attempts >= max_attempts then
      perform private.give_up_notification(expired.id, format('the lease of %s ran out', expired.claimed_by));
    else
      update public.notifications x
         set status = 'pending', locked_until = null,
             last_error = format('the lease of %s ran out', expired.claimed_by)
       where x.id = expired.id;
    end if;
  end loop;

  loop
    asked := wanted;
    -- Due messages in the order they fell due; rows another claim holds are skipped, not waited for.
    select array_agg(d.id) into picked
      from (select x.id from public.notifications x
             where x.status = 'pending' and greatest(x.send_after, x.next_attempt_at) <= now_
             order by greatest(x.send_after, x.next_attempt_at), x.id
             limit asked
               for update skip locked) d;
    exit when picked is null;
    -- A message that announces a session's time is voided instead of sent when the session is no
    -- longer scheduled, or starts at another time than the message says (it was moved; the move
    -- queued its own messages). The cancel message itself is not one of them.
    update public.notifications x
       set status = 'voided', voided_at = now_
     where x.id = any(picked)
       and x.kind in ('session_booked', 'session_rescheduled', 'session_reminder_24h', 'session_reminder_1h')
       and x.session_id is not null
       and not exists (
         select from public.sessions s
          where s.id = x.session_id and s.status = 'scheduled'
            and (not x.payload ? 'starts_at' or s.starts_at = (x.payload ->> 'starts_at')::timestamptz));
    -- How many this transaction's claims voided, for claim_messages to report.
    get diagnostics voided = row_count;
    if voided > 0 then
      perform pg_catalog.set_config('mentorships.claim_voided',
        (coalesce(nullif(pg_catalog.current_setting('mentorships.claim_voided', true), ''), '0')::integer + voided)::text,
        true);
    end if;
    return query
      with c as (
        update public.notifications x
           set status = 'sending', attempts = x.attempts + 1, claimed_by = claim_notifications.worker,
               locked_until = now_ + make_interval(secs => claim_notifications.lease_seconds)
         where x.id = any(picked) and x.status = 'pending'
        returning x.*)
      select * from c order by greatest(c.send_after, c.next_attempt_at), c.id;
    get diagnostics claimed = row_count;
    wanted := wanted - claimed;
    -- Again only when some were voided and more may be due.
    exit when wanted <= 0 or pg_catalog.cardinality(picked) < asked;
  end loop;
end
$$;
comment on function private.claim_notifications(text, integer, integer) is 'See public.claim_notifications.';
revoke execute on function private.claim_notifications(text, integer, integer) from public, anon, authenticated;
grant execute on function private.claim_notifications(text, integer, integer) to service_role;

create or replace function private.notification_sent(notification_id bigint, provider_message_id text)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
begin
  select * into n from public.notifications x where x.id = notification_sent.notification_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', notification_sent.notification_id));
  end if;
  if n.status = 'sent' then
    return n;
  end if;
  if n.status <> 'sending' then
    perform private.refuse(409, format('message %s is %s, not sending', n.id, n.status));
  end if;
  update public.notifications x
     set status = 'sent', sent_at = private.clock_now(), locked_until = null,
         provider_message_id = notification_sent.provider_message_id
   where x.id = n.id
  returning * into n;
  return n;
end
$$;
comment on function private.notification_sent(bigint, text) is 'See public.notification_sent.';
revoke execute on function private.notification_sent(bigint, text) from public, anon, authenticated;
grant execute on function private.notification_sent(bigint, text) to service_role;

create or replace function private.notification_failed(notification_id bigint, error text, permanent boolean)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
  s public.platform_settings;
begin
  select * into n from public.notifications x where x.id = notification_failed.notification_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', notification_failed.notification_id));
  end if;
  if n.status = 'failed' then
    return n;
  end if;
  if n.status <> 'sending' then
    perform private.refuse(409, format('message %s is %s, not sending', n.id, n.status));
  end if;
  select * into s from public.platform_settings x where x.id;
  if notification_failed.permanent or n.attempts >= s.message_max_attempts then
    return private.give_up_notification(n.id, notification_failed.error);
  end if;
  update public.notifications x
     set status = 'pending', locked_until = null, last_error = left(notification_failed.error, 2000),
         next_attempt_at = private.clock_now()
                           + private.message_retry_delay(n.attempts, s.message_retry_base_seconds,
                                                         s.message_retry_max_seconds)
   where x.id = n.id
  returning * into n;
  return n;
end
$$;
comment on function private.notification_failed(bigint, text, boolean) is 'See public.notification_failed.';
revoke execute on function private.notification_failed(bigint, text, boolean) from public, anon, authenticated;
grant execute on function private.notification_failed(bigint, text, boolean) to service_role;

-- A worker that LISTENs on notifications_due wakes as soon as a message that is due now commits
-- (Postgres delivers a notification at commit, and once per transaction for the same payload).
-- Once per statement: a booking's messages are one insert. Reminders for later wake nobody; the
-- worker's poll finds them.
create or replace function private.tg_notifications__wake_dispatcher()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  first_due bigint;
begin
  select min(i.id) into first_due from inserted i where i.send_after <= private.clock_now();
  if first_due is not null then
    perform pg_catalog.pg_notify('notifications_due', first_due::text);
  end if;
  return null;
end
$$;
comment on function private.tg_notifications__wake_dispatcher() is
  'Notifies the channel notifications_due (payload: the first due id) when an insert queued a message due now.';
revoke execute on function private.tg_notifications__wake_dispatcher() from public, anon, authenticated;

drop trigger if exists _100_wake_dispatcher on public.notifications;
create trigger _100_wake_dispatcher
  after insert on public.notifications
  referencing new table as inserted
  for each statement execute function private.tg_notifications__wake_dispatcher();

-- The RPCs the dispatcher calls (service role only) ------------------------------------------

-- A message id as it arrives (text): a positive whole number, or a 422 naming the field.
create or replace function private.message_id_arg(value text)
returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if value is null then
    perform private.refuse(422, 'notification_id is required',
      'Send notification_id as the id of a message (a whole number).', 'notification_id');
  end if;
  if value !~ '^\s*\d{1,18}\s*$' then
    perform private.refuse(422, format('notification_id: %s is not a message id', private.quoted(value)),
      'Send notification_id as the id of a message (a whole number).', 'notification_id');
  end if;
  return value::bigint;
end
$$;
comment on function private.message_id_arg(text) is 'value as a message id (bigint); a 422 naming notification_id otherwise.';
revoke execute on function private.message_id_arg(text) from public, anon, authenticated;
grant execute on function private.message_id_arg(text) to service_role;

create or replace function public.claim_notifications(worker text default null, max_messages text default null,
                                                      lease_seconds text default null)
returns setof public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query select * from private.claim_notifications(
    private.text_arg(worker, 'worker', 200, required => true),
    private.integer_arg(coalesce(max_messages, '100'), 'max_messages', 1, 1000),
    private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600));
end
$$;
comment on function public.claim_notifications(text, text, text) is
$$Service role (the dispatcher): claims up to max_messages due messages (pending, send_after and next_attempt_at passed; rows another worker holds are skipped) and returns them marked sending, attempts + 1, claimed_by worker, leased until now + lease_seconds. A message about a session that is no longer scheduled or starts at another time than it says is voided instead. Messages whose lease ran out go back to pending first (failed after the last attempt).
Arguments: worker (text, at most 200 characters), max_messages (1 to 1000, default 100), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_notifications(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_notifications(text, text, text) to service_role;

create or replace function public.notification_sent(notification_id text default null,
                                                    provider_message_id text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.notification_sent(private.message_id_arg(notification_id),
    private.text_arg(provider_message_id, 'provider_message_id', 500));
end
$$;
comment on function public.notification_sent(text, text) is
$$Service role (the dispatcher): records that a claimed message was delivered (status sent, sent_at, the provider's message id); returns the message. Reporting it again changes nothing.
Arguments: notification_id (the message's id), provider_message_id (text, at most 500 characters, optional).
Errors: 404 PT404 no such message; 409 PT409 the message is not sending (its lease ran out, it failed or was voided); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.notification_sent(text, text) from public, anon, authenticated;
grant execute on function public.notification_sent(text, text) to service_role;

create or replace function public.notification_failed(notification_id text default null, error text default null,
                                                      permanent text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  if permanent is not null and lower(btrim(permanent)) not in ('true', 'false') then
    perform private.refuse(422, format('permanent: %s is not true or false', private.quoted(permanent)),
      'Send permanent as true or false.', 'permanent');
  end if;
  return private.notification_failed(private.message_id_arg(notification_id),
    private.text_arg(error, 'error', 10000, required => true),
    coalesce(lower(btrim(permanent)) = 'true', false));
end
$$;
comment on function public.notification_failed(text, text, text) is
$$Service role (the dispatcher): records that delivering a claimed message failed; returns the message. A permanent error (unknown address, bot blocked), or a failure of the last attempt (platform_settings.message_max_attempts), fails it for good and tells every admin once (delivery_failed); otherwise it goes back to pending until next_attempt_at (exponential backoff with jitter, capped). Reporting a failed message again changes nothing.
Arguments: notification_id (the message's id), error (text, at most 10000 characters; the first 2000 are kept), permanent (true or false, default false).
Errors: 404 PT404 no such message; 409 PT409 the message is not sending (its lease ran out, it was sent or voided); 422 PT422 missing or malformed argument.$$;
revoke execute on function public.notification_failed(text, text, text) from public, anon, authenticated;
grant execute on function public.notification_failed(text, text, text) to service_role;

-- >>> sql/rules/outbox_dispatch.sql
-- The dispatcher's calls per batch (sync/messaging/worker.py), on top of the rules in outbox.sql:
-- claim_messages (the claim and what each message's template needs, in one call) and
-- report_notifications (a batch of outcomes, each applied by notification_sent/_failed).

-- What the dispatcher renders with (sync/messaging/context.py): a claimed batch, each message with
-- the look-ups its template needs, in the claim's own transaction, so a message is rendered with
-- what was true when it was found still due (the claim voids the stale ones in the same breath).
-- One round trip per batch: the claim and the look-ups together (claim_messages), rather than a
-- claim and then a look-up call, which would double the calls on a booking's path.

-- A payload's id, or null when it is absent or not a UUID (payloads are the rules' own, but a
-- malformed one must not fail the claim of a whole batch: the renderer names what is missing).
create or replace function private.payload_uuid(payload jsonb, field text)
returns uuid
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case when payload ->> field ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              then (payload ->> field)::uuid end
$$;
comment on function private.payload_uuid(jsonb, text) is 'payload ->> field as a uuid; null when absent or malformed.';
revoke execute on function private.payload_uuid(jsonb, text) from public, anon, authenticated;
grant execute on function private.payload_uuid(jsonb, text) to service_role;

-- Per message: who it is for (name, zone, address on its channel), what the recipient is to it,
-- and the names, title and counts its template shows. The student and mentor come from the
-- session, else the pack, the order, the seat, the payload (in that order); the recipient is the
-- mentor, the student, or (anyone else: an admin's copy, and the admin kinds) an admin.
create or replace function private.message_contexts(messages public.notifications[])
returns table (notification_id bigint, recipient_name text, recipient_role text, time_zone text,
               email text, discord_user_id text, other_party_name text, mentor_name text,
               product_title text, remaining_sessions integer, reschedule_count integer)
language sql
stable
security definer
set search_path = ''
as $$
  select n.id, p.display_name,
         r.role, p.time_zone, u.email::text, p.discord_user_id,
         case r.role when 'student' then m.public_name when 'mentor' then sp.display_name end,
         m.public_name, mp.title, k.remaining_sessions, coalesce(s.reschedule_count, 0)
    from pg_catalog.unnest(messages) n
    join public.profiles p on p.id = n.recipient_id
    left join auth.users u on u.id = n.recipient_id
    left join public.sessions s on s.id = n.session_id
    left join public.session_packs k on k.id = coalesce(n.pack_id, s.pack_id, private.payload_uuid(n.payload, 'pack_id'))
    left join public.orders o on o.id = private.payload_uuid(n.payload, 'order_id')
    left join public.seat_reservations seat on seat.id = private.payload_uuid(n.payload, 'seat_id')
    cross join lateral (
      select coalesce(s.student_id, k.student_id, o.student_id, seat.student_id,
                      private.payload_uuid(n.payload, 'student_id')) as student_id,
             coalesce(s.mentor_id, k.mentor_id, o.mentor_id, seat.mentor_id,
                      private.payload_uuid(n.payload, 'mentor_id')) as mentor_id) w
    cross join lateral (
      select case
               when n.kind in ('payment_flagged', 'delivery_failed') then 'admin'
               when n.recipient_id = w.mentor_id then 'mentor'
               when n.recipient_id = w.student_id then 'student'
               else 'admin'
             end as role) r
    left join public.mentors m on m.id = w.mentor_id
    left join public.profiles sp on sp.id = w.student_id
    left join public.mentorship_products mp
      on mp.id = coalesce(k.product_id, o.product_id, private.payload_uuid(n.payload, 'product_id'))
$$;
comment on function private.message_contexts(public.notifications[]) is
  'The look-ups each message''s template needs (sync/messaging/context.py MessageContext), one row per message whose recipient exists.';
revoke execute on function private.message_contexts(public.notifications[]) from public, anon, authenticated;
grant execute on function private.message_contexts(public.notifications[]) to service_role;

create or replace function public.claim_messages(worker text default null, max_messages text default null,
                                                 lease_seconds text default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  claimed public.notifications[];
  voided integer;
  w text := private.text_arg(worker, 'worker', 200, required => true);
begin
  perform pg_catalog.set_config('mentorships.claim_voided', '0', true);
  select coalesce(array_agg(c order by greatest(c.send_after, c.next_attempt_at), c.id), '{}')
    into claimed
    from private.claim_notifications(w,
           private.integer_arg(coalesce(max_messages, '100'), 'max_messages', 1, 1000),
           private.integer_arg(coalesce(lease_seconds, '120'), 'lease_seconds', 10, 3600)) c;
  voided := coalesce(nullif(pg_catalog.current_setting('mentorships.claim_voided', true), ''), '0')::integer;
  return jsonb_build_object(
    'voided', voided,
    'messages', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', n.id, 'kind', n.kind, 'channel', n.channel, 'dedupe_key', n.dedupe_key,
               'payload', n.payload, 'queued_at', n.created_at, 'attempts', n.attempts,
               'recipient_id', n.recipient_id, 'session_id', n.session_id, 'pack_id', n.pack_id,
               'request_id', n.request_id,
               'recipient_name', c.recipient_name, 'recipient_role', c.recipient_role,
               'time_zone', c.time_zone, 'email', c.email, 'discord_user_id', c.discord_user_id,
               'other_party_name', c.other_party_name, 'mentor_name', c.mentor_name,
               'product_title', c.product_title, 'remaining_sessions', c.remaining_sessions,
               'reschedule_count', c.reschedule_count) order by n.ordinality)
        from pg_catalog.unnest(claimed) with ordinality n
        left join private.message_contexts(claimed) c on c.notification_id = n.id), '[]'::jsonb));
end
$$;
comment on function public.claim_messages(text, text, text) is
$$Service role (the dispatcher): claims due messages as claim_notifications does, and answers them with what their templates need, in one call: {"voided": n, "messages": [{id, kind, channel, dedupe_key, payload, queued_at, attempts, recipient_id, session_id, pack_id, request_id (the X-Request-Id of the API request that queued it, or null), recipient_name, recipient_role (student, mentor or admin), time_zone, email, discord_user_id, other_party_name, mentor_name, product_title, remaining_sessions, reschedule_count}]}, in the order they fell due; voided counts the session messages this claim voided instead (their session was canceled or moved). A recipient without an address on the channel has email or discord_user_id null: report it failed, permanent.
Arguments: worker (text, at most 200 characters), max_messages (1 to 1000, default 100), lease_seconds (10 to 3600, default 120).
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.claim_messages(text, text, text) from public, anon, authenticated;
grant execute on function public.claim_messages(text, text, text) to service_role;

-- A batch of outcomes in one call, each applied by the rules above (notification_sent,
-- notification_failed), so that retrying and giving up stay in one place. Every element is read
-- before any is applied: a malformed one is a 422 naming it, and nothing is written. A message
-- that is no longer sending (its lease ran out, or it was deleted with its recipient) is answered
-- as it is, not refused: the batch's other outcomes still count.
create or replace function public.report_notifications(outcomes jsonb default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  hint constant text := 'Send outcomes as an array of {"id": <message id>, "sent": true, "provider_message_id": "..."} or {"id": <message id>, "error": "...", "permanent": true|false}.';
  element jsonb;
  i integer := 0;
  field text;
  ids bigint[] := '{}'::bigint[];
  id_ bigint;
  n public.notifications;
  answers jsonb := '[]'::jsonb;
begin
  if outcomes is null then
    perform private.refuse(422, 'outcomes is required', hint, 'outcomes');
  end if;
  if jsonb_typeof(outcomes) <> 'array' then
    perform private.refuse(422, format('outcomes: expected an array, not %s', jsonb_typeof(outcomes)), hint, 'outcomes');
  end if;
  if jsonb_array_length(outcomes) > 1000 then
    perform private.refuse(422, format('outcomes: at most 1000 at once, not %s', jsonb_array_length(outcomes)), hint, 'outcomes');
  end if;
  for element in select e from jsonb_array_elements(outcomes) e loop
    field := format('outcomes[%s]', i);
    if jsonb_typeof(element) <> 'object' then
      perform private.refuse(422, format('%s: expected an object, not %s', field, jsonb_typeof(element)), hint, field);
    end if;
    if jsonb_typeof(element -> 'id') is distinct from 'number' or (element ->> 'id') !~ '^\d{1,18}$' then
      perform private.refuse(422, format('%s.id: %s is not a message id', field, coalesce(element ->> 'id', 'null')), hint, field || '.id');
    end if;
    id_ := (element ->> 'id')::bigint;
    if id_ = any(ids) then
      perform private.refuse(422, format('%s.id: message %s is reported twice', field, id_), hint, field || '.id');
    end if;
    ids := ids || id_;
    if element ? 'sent' then
      if element -> 'sent' <> 'true'::jsonb or element ? 'error' or element ? 'permanent' then
        perform private.refuse(422, format('%s: a sent outcome is {"id", "sent": true, "provider_message_id"}', field), hint, field);
      end if;
      if element ? 'provider_message_id' and jsonb_typeof(element -> 'provider_message_id') not in ('string', 'null')
         or length(element ->> 'provider_message_id') not between 1 and 500 then
        perform private.refuse(422, format('%s.provider_message_id: expected text of 1 to 500 characters', field), hint, field || '.provider_message_id');
      end if;
    else
      if jsonb_typeof(element -> 'error') is distinct from 'string' or btrim(element ->> 'error') = '' then
        perform private.refuse(422, format('%s.error is required (or "sent": true)', field), hint, field || '.error');
      end if;
      if element ? 'permanent' and jsonb_typeof(element -> 'permanent') <> 'boolean' then
        perform private.refuse(422, format('%s.permanent: expected true or false', field), hint, field || '.permanent');
      end if;
    end if;
    i := i + 1;
  end loop;

  -- Locked in id order, as every claim's update locks them, so two reports cannot deadlock.
  perform from public.notifications x where x.id = any(ids) order by x.id for update;
  for element in select e from jsonb_array_elements(outcomes) e loop
    id_ := (element ->> 'id')::bigint;
    select * into n from public.notifications x where x.id = id_;
    if not found then
      answers := answers || jsonb_build_object('id', id_, 'status', 'missing');
      continue;
    end if;
    if element ? 'sent' and n.status in ('sending', 'sent') then
      n := private.notification_sent(id_, element ->> 'provider_message_id');
    elsif not element ? 'sent' and n.status in ('sending', 'failed') then
      n := private.notification_failed(id_, left(element ->> 'error', 10000),
                                        coalesce((element ->> 'permanent')::boolean, false));
    end if;
    answers := answers || jsonb_build_object('id', n.id, 'status', n.status, 'attempts', n.attempts,
                                             'next_attempt_at', n.next_attempt_at);
  end loop;
  return answers;
end
$$;
comment on function public.report_notifications(jsonb) is
$$Service role (the dispatcher): reports a batch of delivery outcomes, each applied as notification_sent or notification_failed would (a failure is retried with backoff, or fails for good when permanent or the last attempt, telling the admins once). Answers one {id, status, attempts, next_attempt_at} per element, in order: status sent, pending (to be retried at next_attempt_at) or failed; an outcome for a message that is no longer sending (its lease ran out: pending again, or another outcome came first) leaves it as it is and answers its status; missing: no such message (deleted with its recipient).
Arguments: outcomes, a JSON array (at most 1000) of {"id": <message id>, "sent": true, "provider_message_id": "<at most 500 characters>"} or {"id": <message id>, "error": "<text>", "permanent": true|false (default false)}.
Errors: 422 PT422 outcomes missing or an element malformed or reported twice (the message names it, e.g. outcomes[2].id; nothing is written).$$;
revoke execute on function public.report_notifications(jsonb) from public, anon, authenticated;
grant execute on function public.report_notifications(jsonb) to service_role;

-- >>> sql/rules/outbox_retry.sql
-- An admin sends a failed message again (retry_message): the message goes back to pending, due
-- now, for one more attempt. The dispatcher's next claim takes it (attempts + 1); if that attempt
-- fails too, notification_failed gives up again at once (attempts >= message_max_attempts), so a
-- retry is exactly one more attempt. The dedupe key stays, so the provider's idempotency key is
-- the same and nothing is queued twice: a second retry finds the message no longer failed.
--
--   failed --retry_message--> pending (next_attempt_at = now) --claim--> sending --> sent | failed
--
-- A message that announces a session (booked, moved, the reminders) is not retried when its
-- session is no longer scheduled or was moved (the claim would void it), nor any session's
-- message once the session has started: it would arrive too late to matter.

create or replace function private.retry_message(message_id bigint)
returns public.notifications
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  n public.notifications;
  s public.sessions;
  now_ timestamptz := private.clock_now();
begin
  if not private.is_admin() then
    perform private.refuse(403, 'only admins may retry a message');
  end if;
  select * into n from public.notifications x where x.id = retry_message.message_id for update;
  if not found then
    perform private.refuse(404, format('no message %s', retry_message.message_id),
      'Send message_id as the id of a failed message.', 'message_id');
  end if;
  if n.status <> 'failed' then
    perform private.refuse(409, format('message %s is %s; only a failed message can be retried', n.id, n.status),
      details => 'message_id');
  end if;
  if n.session_id is not null then
    select * into s from public.sessions x where x.id = n.session_id;
    if n.kind in ('session_booked', 'session_rescheduled', 'session_reminder_24h', 'session_reminder_1h') then
      if s.id is null or s.status <> 'scheduled' then
        perform private.refuse(409, format('message %s is about a session that is %s; it would be voided, not sent',
          n.id, coalesce(s.status::text, 'gone')), details => 'message_id');
      end if;
      if n.payload ? 'starts_at' and s.starts_at <> (n.payload ->> 'starts_at')::timestamptz then
        perform private.refuse(409, format('message %s is about a session that was moved since; the move sent its own messages',
          n.id), details => 'message_id');
      end if;
    end if;
    if s.id is not null and s.starts_at <= now_ then
      perform private.refuse(409, format('message %s is about a session that already started (%s UTC); it is too late to send',
        n.id, to_char(s.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')), details => 'message_id');
    end if;
  end if;
  update public.notifications x
     set status = 'pending', next_attempt_at = now_, locked_until = null, claimed_by = null
   where x.id = n.id
  returning * into n;
  insert into public.audit_log (actor_id, action, table_name, row_id, old_values, new_values)
  values ((select auth.uid()), 'notifications.retried', 'notifications', null,
          jsonb_build_object('notification_id', n.id, 'status', 'failed', 'attempts', n.attempts,
                             'last_error', n.last_error),
          jsonb_build_object('notification_id', n.id, 'status', 'pending', 'next_attempt_at', now_));
  return n;
end
$$;
comment on function private.retry_message(bigint) is 'See public.retry_message.';
revoke execute on function private.retry_message(bigint) from public, anon;
grant execute on function private.retry_message(bigint) to authenticated;

create or replace function public.retry_message(message_id text default null)
returns public.notifications
language plpgsql
volatile
set search_path = ''
as $$
begin
  if message_id is null or message_id !~ '^\s*\d{1,18}\s*$' then
    perform private.refuse(422,
      case when message_id is null then 'message_id is required'
           else format('message_id: %s is not a message id', private.quoted(message_id)) end,
      'Send message_id as the id of a message (a whole number).', 'message_id');
  end if;
  return private.retry_message(btrim(message_id)::bigint);
end
$$;
comment on function public.retry_message(text) is
$$Admins: sends a failed message again: back to pending, due now, for one more attempt (the dispatcher's next claim takes it; if it fails again it is failed again at once). Logged in audit_log (notifications.retried). Returns the message.
Arguments: message_id (the message's id, a whole number).
Errors: 403 PT403 not an admin; 404 PT404 no such message; 409 PT409 the message is not failed (a retry already queued it, or it was sent or voided), it announces a session that is no longer scheduled or was moved, or its session already started; 422 PT422 a missing or malformed message_id.$$;
revoke execute on function public.retry_message(text) from public, anon;
grant execute on function public.retry_message(text) to authenticated;

-- >>> sql/rules/payments/checkout.sql
-- Payments: an order is priced and holds a seat (create_order); the checkout bookkeeping of
-- the Python service (attach_order_checkout, order_for_capture).

create or replace function private.create_order(product_id uuid, provider text, promo_code text)
returns public.orders
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  me uuid := (select auth.uid());
  settings public.platform_settings;
  product public.mentorship_products;
  mentor public.mentors;
  prov public.payment_provider;
  o public.orders;
  seat public.seat_reservations;
  promo public.promotion_codes;
  base integer;
  grandfathered integer;
  discount integer := 0;
  hold_until timestamptz;
begin
  if me is null or not exists (select from public.profiles p where p.id = me and p.role = 'student') then
    perform private.refuse(403, 'only students can buy session packs');
  end if;
  if create_order.product_id is null then
    perform private.refuse(422, 'product_id is required', details => 'product_id');
  end if;
  if create_order.provider is null or create_order.provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider must be stripe or paypal, not %s', coalesce(create_order.provider, 'null')), details => 'provider');
  end if;
  prov := create_order.provider::public.payment_provider;
  select * into product from public.mentorship_products x where x.id = create_order.product_id;
  if not found then
    perform private.refuse(404, format('no product with id %s', create_order.product_id));
  end if;
  -- One checkout at a time per student and mentor: concurrent calls queue here.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(me::text || product.mentor_id::text, 0));
  select * into mentor from public.mentors m where m.id = product.mentor_id;
  if not product.is_active or not mentor.is_active then
    perform private.refuse(409, 'this product is no longer sold');
  end if;

  -- An open checkout for the same product is returned, not duplicated.
  select * into o from public.orders x
   where x.student_id = me and x.product_id = product.id and x.status = 'pending'
   for update;
  if found and o.expires_at > now_ then
    if o.provider = prov then
      return o;
    end if;
    -- switching provider: the old checkout is abandoned; its hold passes to the new order
    update public.orders set status = 'canceled' where id = o.id;
  elsif found then
    update public.orders set status = 'expired' where id = o.id;
  end if;

  select * into settings from public.platform_settings;
  -- Stripe refuses a Checkout Session that expires less than 30 minutes after it is created.
  hold_until := now_ + make_interval(mins => greatest(settings.seat_hold_minutes,
                                                      case when prov = 'stripe' then 32 else 0 end));

  -- The seat: the student's own live seat (renewal), or a new hold, which counts against capacity.
  select * into seat from public.seat_reservations s
   where s.mentor_id = product.mentor_id and s.student_id = me and s.status <> 'released'
   for update;
  if not found then
    if not mentor.accepting_students then
      perform private.refuse(409, format('%s is not taking new students right now', mentor.public_name));
    end if;
    insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)
    values (product.mentor_id, me, 'hold', hold_until)
    returning * into seat;
  elsif seat.status = 'hold' then
    -- a hold of an earlier checkout (live, or run out and not yet swept): extend it, which
    -- counts it against capacity again when it had run out
    update public.seat_reservations set hold_expires_at = greatest(hold_expires_at, hold_until)
     where id = seat.id
     returning * into seat;
    hold_until := seat.hold_expires_at;
  end if;

  -- Price: the grandfathered price, then the promotion.
  grandfathered := private.grandfathered_price(me, product);
  base := coalesce(grandfathered, product.price_cents);
  if nullif(btrim(promo_code), '') is not null then
    promo := private.promotion_for(promo_code, me, product);
    discount := case
      when promo.percent_off is not null then (base * promo.percent_off + 50) / 100  -- half up
      else least(promo.amount_off_cents, base) end;
  end if;

  insert into public.orders (student_id, mentor_id, product_id, seat_reservation_id, promotion_code_id, provider,
                             list_price_cents, grandfathered_price_cents, discount_cents, amount_cents, currency,
                             sessions_count, validity_days, expires_at)
  values (me, product.mentor_id, product.id, seat.id, promo.id, prov,
          product.price_cents, grandfathered, discount, base - discount, product.currency,
          product.sessions_count, product.validity_days, hold_until)
  returning * into o;
  return o;
end
$$;
comment on function private.create_order(uuid, text, text) is 'See public.create_order.';
revoke execute on function private.create_order(uuid, text, text) from public, anon;
grant execute on function private.create_order(uuid, text, text) to authenticated;


-- Checkout bookkeeping (the Python service) -------------------------------------------------

create or replace function private.attach_order_checkout(order_id uuid, provider_checkout_id text)
returns public.orders
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  o public.orders;
begin
  if nullif(btrim(provider_checkout_id), '') is null then
    perform private.refuse(422, 'provider_checkout_id is required', details => 'provider_checkout_id');
  end if;
  select * into o from public.orders x where x.id = attach_order_checkout.order_id for update;
  if not found then
    perform private.refuse(404, format('no order with id %s', attach_order_checkout.order_id));
  end if;
  if o.provider_checkout_id = attach_order_checkout.provider_checkout_id then
    return o;
  end if;
  if o.provider_checkout_id is not null then
    perform private.refuse(409, format('order %s already has checkout %s', o.id, o.provider_checkout_id));
  end if;
  if o.status <> 'pending' then
    perform private.refuse(409, format('order %s is %s, not pending', o.id, o.status));
  end if;
  update public.orders set provider_checkout_id = attach_order_checkout.provider_checkout_id
   where id = o.id
   returning * into o;
  return o;
end
$$;
comment on function private.attach_order_checkout(uuid, text) is 'See public.attach_order_checkout.';
revoke execute on function private.attach_order_checkout(uuid, text) from public, anon, authenticated;
grant execute on function private.attach_order_checkout(uuid, text) to service_role;


create or replace function private.order_for_capture(order_id uuid)
returns public.orders
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  o public.orders;
  hold public.seat_reservations;
begin
  select * into o from public.orders x where x.id = order_for_capture.order_id;
  if not found then
    perform private.refuse(404, format('no order with id %s', order_for_capture.order_id));
  end if;
  if o.student_id is distinct from (select auth.uid()) then
    perform private.refuse(403, 'this order is not yours');
  end if;
  if o.provider <> 'paypal' or o.provider_checkout_id is null then
    perform private.refuse(409, format('order %s has no PayPal checkout to capture', o.id));
  end if;
  if o.status <> 'pending' then
    perform private.refuse(409, format('order %s is %s, not pending', o.id, o.status));
  end if;
  select * into hold from public.seat_reservations s where s.id = o.seat_reservation_id;
  if o.expires_at <= private.clock_now()
     or (hold.status = 'hold' and hold.hold_expires_at <= private.clock_now())
     or hold.status = 'released' then
    perform private.refuse(409, format('the seat hold for order %s ran out; start a new checkout', o.id));
  end if;
  return o;
end
$$;
comment on function private.order_for_capture(uuid) is 'See public.order_for_capture.';
revoke execute on function private.order_for_capture(uuid) from public, anon;
grant execute on function private.order_for_capture(uuid) to authenticated;

-- >>> sql/rules/payments/fulfilment.sql
-- Payments: a completed payment becomes a pack and a seat (fulfil_order), or the order is
-- flagged; a checkout that ended unpaid releases its hold (release_order).

create or replace function private.admin_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(p.id order by p.id), '{}') from public.profiles p where p.role = 'admin'
$$;
comment on function private.admin_ids() is 'Everyone who gets admin notifications.';
revoke execute on function private.admin_ids() from public, anon, authenticated;

-- An id from a provider's payload (metadata.order_id, custom_id): a uuid, or null when it is not one.
create or replace function private.as_uuid(value text)
returns uuid
language sql
immutable
set search_path = ''
as $$
  select case when value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then value::uuid end
$$;
comment on function private.as_uuid(text) is 'The text as a uuid, or null when it is not one.';
revoke execute on function private.as_uuid(text) from public, anon, authenticated;

-- Serialises the events about one provider payment until commit (payment and its refunds).
create or replace function private.lock_payment(prov public.payment_provider, payment_ref text)
returns void
language sql
volatile
set search_path = ''
as $$
  select case when payment_ref is not null
    then pg_catalog.pg_advisory_xact_lock(3, pg_catalog.hashtext(prov::text || ':' || payment_ref)) end
$$;
comment on function private.lock_payment(public.payment_provider, text) is
  'Waits for other transactions handling events of this provider payment to commit.';
revoke execute on function private.lock_payment(public.payment_provider, text) from public, anon, authenticated;

-- Flags an order for review: nothing is granted, the admins are told.
create or replace function private.flag_order(o public.orders, reason text, event_key text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if o.status = 'pending' or o.status = 'expired' or o.status = 'canceled' then
    update public.orders set status = 'flagged', flagged_reason = flag_order.reason where id = o.id;
  end if;
  perform private.notify(private.admin_ids(), 'payment_flagged', event_key,
                         jsonb_build_object('order_id', o.id, 'student_id', o.student_id,
                                            'mentor_id', o.mentor_id, 'reason', reason));
  return jsonb_build_object('outcome', 'flagged', 'order_id', o.id, 'reason', reason);
end
$$;
comment on function private.flag_order(public.orders, text, text) is
  'Marks an unpaid order flagged with the reason and tells the admins (a paid order keeps its state).';
revoke execute on function private.flag_order(public.orders, text, text) from public, anon, authenticated;

create or replace function private.fulfil_order(
  prov public.payment_provider, order_ref text, payment_ref text, amount_cents integer, currency text,
  checkout_id text
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  refusal text;
  now_ timestamptz := private.clock_now();
  settings public.platform_settings;
  o public.orders;
  seat public.seat_reservations;
  pack public.session_packs;
  pay public.payments;
  ev private.webhook_events;
  result jsonb;
begin
  if private.as_uuid(order_ref) is null then
    perform private.notify(private.admin_ids(), 'payment_flagged', format('payment:%s:%s:no_order', prov, payment_ref),
                           jsonb_build_object('payment_ref', payment_ref, 'reason', 'payment names no order'));
    return jsonb_build_object('outcome', 'flagged', 'reason', 'payment names no order', 'payment_ref', payment_ref);
  end if;
  -- Events about one payment take turns (a refund racing its payment must not be parked
  -- after the payment looked for parked refunds); taken before the order row, as refunds do.
  perform private.lock_payment(prov, payment_ref);
  select * into o from public.orders x where x.id = private.as_uuid(order_ref) for update;
  if not found then
    perform private.notify(private.admin_ids(), 'payment_flagged', format('payment:%s:%s:unknown_order', prov, payment_ref),
                           jsonb_build_object('payment_ref', payment_ref, 'order_ref', order_ref,
                                              'reason', 'payment for an unknown order'));
    return jsonb_build_object('outcome', 'flagged', 'reason', 'payment for an unknown order', 'payment_ref', payment_ref);
  end if;
  if payment_ref is null or fulfil_order.amount_cents is null or fulfil_order.currency is null then
    return private.flag_order(o, 'the payment event carries no payment id or amount', format('order:%s:flagged:no_payment_id', o.id));
  end if;
  select * into pay from public.payments p where p.provider = prov and p.provider_payment_id = payment_ref;
  if found then
    return jsonb_build_object('outcome', 'duplicate', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;

  -- The money arrived: record it whatever happens next.
  insert into public.payments (order_id, student_id, provider, provider_payment_id, amount_cents, currency, paid_at)
  values (o.id, o.student_id, prov, payment_ref, fulfil_order.amount_cents, lower(fulfil_order.currency), now_)
  returning * into pay;

  if o.status in ('paid', 'refunded', 'flagged') then
    return private.flag_order(o, format('a second payment (%s) for an order already %s', payment_ref, o.status),
                              format('order:%s:flagged:extra:%s', o.id, payment_ref))
           || jsonb_build_object('payment_ref', payment_ref);
  end if;
  if o.provider <> prov then
    return private.flag_order(o, format('paid with %s, ordered with %s', prov, o.provider),
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end if;
  if pay.amount_cents <> o.amount_cents or pay.currency <> o.currency then
    return private.flag_order(o, format('paid %s %s, expected %s %s', pay.amount_cents, upper(pay.currency),
                                        o.amount_cents, upper(o.currency)),
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end if;

  -- The seat: the order's hold or live seat; a hold that ran out is taken again if a seat is free.
  select * into seat from public.seat_reservations s
   where s.mentor_id = o.mentor_id and s.student_id = o.student_id and s.status <> 'released'
   for update;
  begin
    if not found then
      insert into public.seat_reservations (mentor_id, student_id, status, activated_at)
      values (o.mentor_id, o.student_id, 'active', now_)
      returning * into seat;
    elsif seat.status = 'hold' then
      update public.seat_reservations set status = 'active', activated_at = now_
       where id = seat.id
       returning * into seat;
    end if;
  exception when sqlstate 'PGRST' then
    get stacked diagnostics refusal = message_text;
    if refusal::json ->> 'code' <> 'PT409' then  -- only "no free seat" is expected here
      raise;
    end if;
    return private.flag_order(o, 'paid after the seat hold ran out, and the mentor has no free seat now',
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end;

  select * into settings from public.platform_settings;
  insert into public.session_packs (student_id, mentor_id, product_id, order_id, seat_reservation_id,
                                    sessions_total, remaining_sessions, price_cents, currency,
                                    grace_period_hours, cancel_notice_hours, purchased_at, expires_at)
  select o.student_id, o.mentor_id, o.product_id, o.id, seat.id,
         coalesce(o.sessions_count, pr.sessions_count), coalesce(o.sessions_count, pr.sessions_count),
         o.amount_cents, o.currency, settings.grace_period_hours, settings.cancel_notice_hours,
         now_, now_ + make_interval(days => coalesce(o.validity_days, pr.validity_days))
    from public.mentorship_products pr where pr.id = o.product_id
  returning * into pack;
  update public.orders
     set status = 'paid', paid_at = now_, seat_reservation_id = seat.id,
         provider_checkout_id = coalesce(provider_checkout_id, fulfil_order.checkout_id)
   where id = o.id;
  perform private.refresh_seat(seat.id);  -- a renewal brings a seat in grace back
  perform private.notify(array[o.student_id, o.mentor_id], 'pack_purchased', format('order:%s:paid', o.id),
                         jsonb_build_object('order_id', o.id, 'pack_id', pack.id, 'mentor_id', o.mentor_id,
                                            'student_id', o.student_id, 'sessions', pack.sessions_total,
                                            'expires_at', pack.expires_at, 'amount_cents', pay.amount_cents,
                                            'currency', pay.currency),
                         null, null, pack.id);
  result := jsonb_build_object('outcome', 'fulfilled', 'order_id', o.id, 'pack_id', pack.id, 'payment_ref', payment_ref);

  -- Refunds that arrived before this payment.
  for ev in
    select * from private.webhook_events w
     where w.provider = prov and w.payment_ref = fulfil_order.payment_ref and w.outcome = 'deferred'
     order by w.id
       for update
  loop
    perform private.settle_event(ev, private.apply_payment_event(ev.provider, ev.event_type, ev.payload));
  end loop;
  return result;
end
$$;
comment on function private.fulfil_order(public.payment_provider, text, text, integer, text, text) is
  'Applies a completed payment: records it; when it matches the order (provider, amount, currency) creates the pack, activates or renews the seat and tells both; otherwise flags the order. Then applies refunds that were waiting for it.';
revoke execute on function private.fulfil_order(public.payment_provider, text, text, integer, text, text)
  from public, anon, authenticated;

-- A checkout that ended unpaid: the order expires and its hold is released (unless another open
-- order holds it).
create or replace function private.release_order(order_ref text, new_status public.order_status)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  o public.orders;
begin
  if private.as_uuid(order_ref) is null then
    return jsonb_build_object('outcome', 'ignored', 'reason', 'no order id');
  end if;
  select * into o from public.orders x where x.id = private.as_uuid(order_ref) for update;
  if not found or o.status <> 'pending' then
    return jsonb_build_object('outcome', 'ignored', 'order_id', o.id,
                              'reason', coalesce('order is ' || o.status, 'unknown order'));
  end if;
  update public.orders set status = new_status where id = o.id;
  update public.seat_reservations s
     set status = 'released', released_at = now_, release_reason = 'hold_expired'
   where s.id = o.seat_reservation_id and s.status = 'hold'
     and not exists (select from public.orders x
                      where x.seat_reservation_id = s.id and x.status = 'pending' and x.id <> o.id);
  return jsonb_build_object('outcome', 'released', 'order_id', o.id);
end
$$;
comment on function private.release_order(text, public.order_status) is
  'Ends a pending order unpaid and releases its seat hold (unless another open order holds it).';
revoke execute on function private.release_order(text, public.order_status) from public, anon, authenticated;

-- >>> sql/rules/payments/inbox.sql
-- Payments: the webhook inbox (record_payment_event) and what each provider event means.
-- The money path: an order is priced and holds a seat (create_order); a verified provider
-- webhook is stored once in the inbox and applied in the same transaction
-- (record_payment_event): payment -> pack and seat, refund -> pack refunded or recorded,
-- checkout expired -> hold released. Exactly once: the inbox is unique per provider event id,
-- and every step also checks the order's state, so a replay under another id changes nothing.

-- ISO 4217 minor units of a PayPal amount ({"currency_code": "USD", "value": "240.00"}), exactly
-- (numeric, never floats): what Stripe and our tables count in. Yen have no minor unit; PayPal
-- writes forints and Taiwan dollars without decimals, but they have cents ("1500" HUF = 150000).
create or replace function private.paypal_amount_cents(amount jsonb)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
declare
  digits integer := case when upper(amount ->> 'currency_code') = 'JPY' then 0 else 2 end;
  value numeric;
begin
  if amount is null or jsonb_typeof(amount) = 'null' then
    return null;
  end if;
  if amount ->> 'value' is null or amount ->> 'value' !~ '^[0-9]+(\.[0-9]+)?$' then
    perform private.refuse(422, format('amount.value %s is not a decimal amount', amount ->> 'value'), details => 'payload');
  end if;
  value := (amount ->> 'value')::numeric * (10 ^ digits)::numeric;
  if value <> trunc(value) then
    perform private.refuse(422, format('amount.value %s has more than %s decimals', amount ->> 'value', digits), details => 'payload');
  end if;
  return value::integer;
end
$$;
comment on function private.paypal_amount_cents(jsonb) is
  'A PayPal amount object in ISO 4217 minor units (exact; yen have none, "1500" HUF is 150000).';
revoke execute on function private.paypal_amount_cents(jsonb) from public, anon, authenticated;

-- What an event means, by provider and type. Unknown types are ignored (they stay in the inbox).
create or replace function private.apply_payment_event(prov public.payment_provider, event_type text, payload jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  obj jsonb;
  capture_ref text;
begin
  if prov = 'stripe' then
    obj := payload -> 'data' -> 'object';
    case event_type
      when 'checkout.session.completed', 'checkout.session.async_payment_succeeded' then
        if obj ->> 'payment_status' is distinct from 'paid' then
          return jsonb_build_object('outcome', 'awaiting_payment', 'order_id', obj -> 'metadata' ->> 'order_id');
        end if;
        return private.fulfil_order(prov, obj -> 'metadata' ->> 'order_id', obj ->> 'payment_intent',
                                    (obj ->> 'amount_total')::integer, obj ->> 'currency', obj ->> 'id');
      when 'checkout.session.expired' then
        return private.release_order(obj -> 'metadata' ->> 'order_id', 'expired');
      when 'checkout.session.async_payment_failed' then
        return private.release_order(obj -> 'metadata' ->> 'order_id', 'canceled');
      when 'charge.refunded' then
        return private.refund_payment(prov, obj ->> 'payment_intent', (obj ->> 'amount_refunded')::integer);
      else
        return jsonb_build_object('outcome', 'ignored');
    end case;
  end if;
  obj := payload -> 'resource';
  case event_type
    when 'PAYMENT.CAPTURE.COMPLETED' then
      return private.fulfil_order(prov, obj ->> 'custom_id', obj ->> 'id', private.paypal_amount_cents(obj -> 'amount'),
                                  obj -> 'amount' ->> 'currency_code',
                                  obj #>> '{supplementary_data,related_ids,order_id}');
    when 'PAYMENT.CAPTURE.REFUNDED' then
      select substring(l ->> 'href' from '/captures/([^/?]+)') into capture_ref
        from jsonb_array_elements(coalesce(obj -> 'links', '[]')) l
       where l ->> 'rel' = 'up';
      -- PayPal reports the capture's refunded total in the breakdown; older payloads only the refund
      return private.refund_payment(prov, capture_ref, coalesce(
        private.paypal_amount_cents(obj #> '{seller_payable_breakdown,total_refunded_amount}'),
        (select x.refunded_cents from public.payments x
          where x.provider = prov and x.provider_payment_id = capture_ref)
          + private.paypal_amount_cents(obj -> 'amount'),
        private.paypal_amount_cents(obj -> 'amount')));
    else
      return jsonb_build_object('outcome', 'ignored');
  end case;
end
$$;
comment on function private.apply_payment_event(public.payment_provider, text, jsonb) is
  'Applies one provider event: Stripe checkout.session.completed / async_payment_succeeded (fulfil), checkout.session.expired / async_payment_failed (release), charge.refunded; PayPal PAYMENT.CAPTURE.COMPLETED (fulfil), PAYMENT.CAPTURE.REFUNDED. Anything else is ignored.';
revoke execute on function private.apply_payment_event(public.payment_provider, text, jsonb) from public, anon, authenticated;

create or replace function private.settle_event(ev private.webhook_events, result jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update private.webhook_events w
     set outcome = result ->> 'outcome',
         processed_at = case when result ->> 'outcome' = 'deferred' then null else private.clock_now() end,
         order_id = coalesce(w.order_id, (select o.id from public.orders o where o.id::text = result ->> 'order_id')),
         payment_ref = coalesce(w.payment_ref, result ->> 'payment_ref')
   where w.id = ev.id;
  return result;
end
$$;
comment on function private.settle_event(private.webhook_events, jsonb) is
  'Records in the inbox what applying an event did.';
revoke execute on function private.settle_event(private.webhook_events, jsonb) from public, anon, authenticated;

create or replace function private.record_payment_event(provider text, event_id text, event_type text, payload jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev private.webhook_events;
begin
  if record_payment_event.provider is null or record_payment_event.provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider must be stripe or paypal, not %s', coalesce(record_payment_event.provider, 'null')), details => 'provider');
  end if;
  if nullif(btrim(event_id), '') is null or nullif(btrim(event_type), '') is null then
    perform private.refuse(422, 'event_id and event_type are required', details => 'event_id');
  end if;
  if jsonb_typeof(payload) is distinct from 'object' then
    perform private.refuse(422, 'payload must be the event as a JSON object', details => 'payload');
  end if;
  insert into private.webhook_events (provider, event_id, event_type, payload)
  values (record_payment_event.provider::public.payment_provider, event_id, event_type, payload)
  on conflict on constraint webhook_events_provider_event_id_key do nothing
  returning * into ev;
  if not found then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', event_id);
  end if;
  return private.settle_event(ev, private.apply_payment_event(ev.provider, ev.event_type, ev.payload))
         || jsonb_build_object('event_id', event_id);
end
$$;
comment on function private.record_payment_event(text, text, text, jsonb) is 'See public.record_payment_event.';
revoke execute on function private.record_payment_event(text, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.record_payment_event(text, text, text, jsonb) to service_role;

-- >>> sql/rules/payments/pricing.sql
-- Payments: what an order costs (grandfathered price, promotion codes).

-- The student's grandfathered price for a product: what they paid before the promotion on
-- their last paid order of it, when that is lower than today's price. Prices of different
-- products (4 or 8 sessions) are not comparable, so only the same product counts.
create or replace function private.grandfathered_price(student_id uuid, product public.mentorship_products)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select price
    from (select coalesce(o.grandfathered_price_cents, o.list_price_cents) as price
            from public.orders o
           where o.student_id = grandfathered_price.student_id and o.product_id = product.id
             and o.status = 'paid' and o.currency = product.currency
           order by o.paid_at desc
           limit 1) last
   where price < product.price_cents
$$;
comment on function private.grandfathered_price(uuid, public.mentorship_products) is
  'The lower list price of the student''s last paid order of this product, if lower than today''s.';
revoke execute on function private.grandfathered_price(uuid, public.mentorship_products) from public, anon, authenticated;

-- A promotion code checked for this student and product; the row is locked so the redemption
-- count cannot be overtaken by a concurrent order. Raises PT422 saying what is wrong.
create or replace function private.promotion_for(code text, student_id uuid, product public.mentorship_products)
returns public.promotion_codes
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  promo public.promotion_codes;
  used integer;
begin
  select * into promo from public.promotion_codes pc where pc.code = upper(btrim(promotion_for.code)) for update;
  if not found then
    perform private.refuse(422, format('promotion code %s is unknown', private.quoted(upper(btrim(code)))), details => 'promo_code');
  end if;
  if not promo.is_active then
    perform private.refuse(422, format('promotion code %s is no longer valid', promo.code), details => 'promo_code');
  end if;
  if promo.valid_from > now_ then
    perform private.refuse(422, format('promotion code %s is valid from %s', promo.code, promo.valid_from), details => 'promo_code');
  end if;
  if promo.valid_until is not null and promo.valid_until <= now_ then
    perform private.refuse(422, format('promotion code %s expired at %s', promo.code, promo.valid_until), details => 'promo_code');
  end if;
  if promo.product_id is not null and promo.product_id <> product.id then
    perform private.refuse(422, format('promotion code %s is not valid for this product', promo.code), details => 'promo_code');
  end if;
  if promo.mentor_id is not null and promo.mentor_id <> product.mentor_id then
    perform private.refuse(422, format('promotion code %s is not valid for this mentor''s products', promo.code), details => 'promo_code');
  end if;
  if promo.currency is not null and promo.currency <> product.currency then
    perform private.refuse(422, format('promotion code %s is for prices in %s, this product is in %s', promo.code, upper(promo.currency), upper(product.currency)), details => 'promo_code');
  end if;
  if exists (select from public.orders o
              where o.promotion_code_id = promo.id and o.student_id = promotion_for.student_id
                and o.status not in ('expired', 'canceled')) then
    perform private.refuse(422, format('you have already used promotion code %s', promo.code), details => 'promo_code');
  end if;
  if promo.max_redemptions is not null then
    select count(*) into used from public.orders o
     where o.promotion_code_id = promo.id and o.status not in ('expired', 'canceled');
    if used >= promo.max_redemptions then
      perform private.refuse(422, format('promotion code %s is used up', promo.code), details => 'promo_code');
    end if;
  end if;
  return promo;
end
$$;
comment on function private.promotion_for(text, uuid, public.mentorship_products) is
  'The promotion code, locked, when this student may use it on this product; PT422 naming the reason otherwise.';
revoke execute on function private.promotion_for(text, uuid, public.mentorship_products) from public, anon, authenticated;

-- >>> sql/rules/payments/refunds.sql
-- Payments: refunds, full or partial (refund_payment).

-- Refunds: refunded_total is the payment's refunded amount in all, as the provider reports it.
create or replace function private.refund_payment(prov public.payment_provider, payment_ref text, refunded_total integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  pay public.payments;
  o public.orders;
  p public.session_packs;
  s public.sessions;
  total integer;
  canceled integer := 0;
begin
  if payment_ref is null then
    return jsonb_build_object('outcome', 'ignored', 'reason', 'refund names no payment');
  end if;
  perform private.lock_payment(prov, payment_ref);
  select * into pay from public.payments x where x.provider = prov and x.provider_payment_id = payment_ref;
  if not found then
    return jsonb_build_object('outcome', 'deferred', 'payment_ref', payment_ref);  -- kept for its payment
  end if;
  -- lock order: the order, then its pack, then the payment
  select * into o from public.orders x where x.id = pay.order_id for update;
  select * into p from public.session_packs x where x.order_id = o.id for update;
  select * into pay from public.payments x where x.id = pay.id for update;
  total := least(refunded_total, pay.amount_cents);
  if total <= pay.refunded_cents then
    return jsonb_build_object('outcome', 'duplicate', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;
  -- this refund on its own (the payment keeps only the running total): the reports date it
  insert into private.payment_refunds (payment_id, amount_cents, refunded_total_cents, currency, refunded_at)
  values (pay.id, total - pay.refunded_cents, total, pay.currency, now_);
  update public.payments
     set refunded_cents = total,
         status = case when total >= amount_cents then 'refunded' else 'partially_refunded' end::public.payment_status
   where id = pay.id
   returning * into pay;

  if pay.status = 'partially_refunded' then
    perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                           format('payment:%s:refund:%s', pay.id, total),
                           jsonb_build_object('order_id', o.id, 'refunded_cents', total, 'amount_cents', pay.amount_cents,
                                              'currency', pay.currency, 'full', false));
    return jsonb_build_object('outcome', 'partially_refunded', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;

  -- Full refund: the pack ends now, its future sessions are canceled without giving credits
  -- back, and the seat is released unless another live pack holds it.
  if o.status = 'paid' then
    update public.orders set status = 'refunded' where id = o.id;
  end if;
  if p.id is not null and p.status <> 'refunded' then
    for s in
      select * from public.sessions x
       where x.pack_id = p.id and x.status = 'scheduled' and x.starts_at > now_
       order by x.starts_at
         for update
    loop
      update public.sessions
         set status = 'canceled', canceled_at = now_, cancel_reason = 'pack refunded'
       where id = s.id
       returning * into s;
      perform private.void_reminders(s.id);
      perform private.notify(array[s.student_id, s.mentor_id], 'session_canceled', format('session:%s:canceled', s.id),
                             private.session_payload(s) || jsonb_build_object('canceled_by', 'refund',
                                                                              'credit_restored', false),
                             null, s.id);
      insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'delete');
      canceled := canceled + 1;
    end loop;
    if p.remaining_sessions > 0 then
      insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason)
      values (p.id, p.mentor_id, p.student_id, 'pack_refunded', -p.remaining_sessions, 'payment refunded in full');
    end if;
    update public.session_packs set status = 'refunded', refunded_at = now_ where id = p.id;
    if not exists (select from public.session_packs x
                    where x.seat_reservation_id = p.seat_reservation_id and x.status = 'active') then
      update public.seat_reservations
         set status = 'released', released_at = now_, release_reason = 'refunded'
       where id = p.seat_reservation_id and status <> 'released';
      perform private.void_grace_warnings(x) from public.seat_reservations x where x.id = p.seat_reservation_id;
    end if;
  end if;
  perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                         format('payment:%s:refund:%s', pay.id, total),
                         jsonb_build_object('order_id', o.id, 'pack_id', p.id, 'refunded_cents', total,
                                            'amount_cents', pay.amount_cents, 'currency', pay.currency,
                                            'full', true, 'sessions_canceled', canceled),
                         null, null, p.id);
  return jsonb_build_object('outcome', 'refunded', 'order_id', o.id, 'pack_id', p.id, 'payment_ref', payment_ref,
                            'sessions_canceled', canceled);
end
$$;
comment on function private.refund_payment(public.payment_provider, text, integer) is
  'Records a refund (and the refund on its own in private.payment_refunds). Full: order and pack refunded, remaining credits to 0 through the ledger, future sessions canceled, seat released unless another live pack holds it. Partial: recorded, student and admins told, no credit change. Deferred when the payment is not known yet.';
revoke execute on function private.refund_payment(public.payment_provider, text, integer) from public, anon, authenticated;

-- >>> sql/rules/preferences.sql
-- People choose which messages reach them (public.notification_preferences). Which kinds may be
-- turned off is one rule, private.message_kind_optional: the write check
-- (sql/rules/input_checks.sql), the queueing rule (private.notify_many in sql/rules/notify.sql),
-- the unsubscribe link (public.unsubscribe, below) and the list a dashboard draws
-- (public.my_notification_preferences) all read it. sync/messaging/unsubscribe.py mirrors it for
-- the List-Unsubscribe header, and a test holds the two together.
--
-- Optional: the reminders before a session (24 h, 1 h) and the nudges to buy again
-- (renewal_reminder, one_session_left): missing one costs nothing the person did not already
-- know. Never optional: what a person paid for or did (pack_purchased, refund_processed), a
-- session changed by someone (booked, rescheduled, canceled: with the calendar invite), the
-- seat's grace period and release (losing the seat costs them), and the admins' alerts
-- (payment_flagged, delivery_failed).

create or replace function private.message_kind_optional(kind public.notification_kind)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select kind in ('session_reminder_24h', 'session_reminder_1h', 'renewal_reminder', 'one_session_left')
$$;
comment on function private.message_kind_optional(public.notification_kind) is
  'Whether people may turn this kind of message off (reminders and renewal nudges); the one list of them.';
revoke execute on function private.message_kind_optional(public.notification_kind) from public, anon;
grant execute on function private.message_kind_optional(public.notification_kind) to authenticated, service_role;

create or replace function private.optional_message_kinds()
returns public.notification_kind[]
language sql
stable
parallel safe
set search_path = ''
as $$
  select pg_catalog.array_agg(k order by k)
    from pg_catalog.unnest(pg_catalog.enum_range(null::public.notification_kind)) k
   where private.message_kind_optional(k)
$$;
comment on function private.optional_message_kinds() is
  'The kinds private.message_kind_optional accepts, in the enum''s order (for messages and listings).';
revoke execute on function private.optional_message_kinds() from public, anon;
grant execute on function private.optional_message_kinds() to authenticated, service_role;

-- Refuses a kind that may not be turned off: 422 naming the field, listing the ones that may.
create or replace function private.check_optional_kind(kind public.notification_kind, field text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if not private.message_kind_optional(kind) then
    perform private.refuse(422, format('%s: %s messages may not be turned off', field, kind),
      hint => format('Only these kinds may be turned off: %s.',
                     pg_catalog.array_to_string(private.optional_message_kinds(), ', ')),
      details => field);
  end if;
end
$$;
comment on function private.check_optional_kind(public.notification_kind, text) is
  'Refuses (422 naming field) a kind of message that may not be turned off, listing those that may.';
revoke execute on function private.check_optional_kind(public.notification_kind, text) from public, anon;
grant execute on function private.check_optional_kind(public.notification_kind, text) to authenticated, service_role;

-- Turning a kind off also voids that person's messages of that kind and channel that are queued
-- and not yet sent (a reminder queued at booking time would otherwise still go out). Turning it
-- back on brings none back: only messages queued from then on.
create or replace function private.tg_notification_preferences__void_pending()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.notifications n
     set status = 'voided', voided_at = private.clock_now()
   where n.recipient_id = new.user_id and n.kind = new.kind and n.channel = new.channel
     and n.status = 'pending';
  return null;
end
$$;
comment on function private.tg_notification_preferences__void_pending() is
  'Voids the pending messages of a kind and channel a person just turned off.';
revoke execute on function private.tg_notification_preferences__void_pending() from public, anon, authenticated;

drop trigger if exists _200_void_pending on public.notification_preferences;
create trigger _200_void_pending
  after insert or update of user_id, kind, channel, enabled on public.notification_preferences
  for each row when (not new.enabled)
  execute function private.tg_notification_preferences__void_pending();

-- The one-click unsubscribe link (POST /messages/unsubscribe, after the services verified its
-- signed token): turns the kind off on that channel for that person. Idempotent.
create or replace function private.unsubscribe(
  user_id uuid, kind public.notification_kind, channel public.notification_channel)
returns public.notification_preferences
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.notification_preferences;
begin
  perform private.check_optional_kind(unsubscribe.kind, 'kind');
  if not exists (select from public.profiles x where x.id = unsubscribe.user_id) then
    perform private.refuse(404, format('no profile with id %s', unsubscribe.user_id), details => 'user_id',
      hint => 'The account this link was sent to no longer exists.');
  end if;
  insert into public.notification_preferences as np (user_id, kind, channel, enabled)
  values (unsubscribe.user_id, unsubscribe.kind, unsubscribe.channel, false)
  on conflict on constraint notification_preferences_user_id_kind_channel_key
  do update set enabled = false where np.enabled
  returning * into p;
  if p is null then  -- it was off already: nothing changed
    select * into p from public.notification_preferences x
     where x.user_id = unsubscribe.user_id and x.kind = unsubscribe.kind and x.channel = unsubscribe.channel;
  end if;
  return p;
end
$$;
comment on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel) is
  'See public.unsubscribe: turns one optional kind of message off for a person on one channel.';
revoke execute on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel)
  from public, anon, authenticated;
grant execute on function private.unsubscribe(uuid, public.notification_kind, public.notification_channel)
  to service_role;

-- What a dashboard draws: every kind that may be turned off, on every channel, with the caller's
-- setting (on unless they turned it off).
create or replace function private.my_notification_preferences()
returns table (kind public.notification_kind, channel public.notification_channel, enabled boolean,
               updated_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select k.kind, c.channel, coalesce(p.enabled, true), p.updated_at
    from pg_catalog.unnest(private.optional_message_kinds()) k (kind)
   cross join pg_catalog.unnest(pg_catalog.enum_range(null::public.notification_channel)) c (channel)
    left join public.notification_preferences p
      on p.user_id = (select auth.uid()) and p.kind = k.kind and p.channel = c.channel
   order by k.kind, c.channel
$$;
comment on function private.my_notification_preferences() is
  'See public.my_notification_preferences: each optional kind and channel with the caller''s setting.';
revoke execute on function private.my_notification_preferences() from public, anon;
grant execute on function private.my_notification_preferences() to authenticated;

-- >>> sql/rules/profiles.sql
-- A profile for every new auth user. Part of the real schema (hosted too): the role is always
-- student; only an admin makes someone a mentor or admin.
create or replace function private.tg_users__create_profile()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  tz text := new.raw_user_meta_data ->> 'time_zone';
begin
  insert into public.profiles (id, email, display_name, time_zone)
  values (
    new.id,
    new.email,
    -- sign-up metadata is the user's own text: control characters become spaces (a name is shown to others)
    left(coalesce(regexp_replace(coalesce(nullif(new.raw_user_meta_data ->> 'display_name', ''),
                                          nullif(split_part(coalesce(new.email, ''), '@', 1), '')),
                                 '[[:cntrl:]\u0080-\u009f\u2028\u2029]', ' ', 'g'), ''), 100),
    case when private.is_valid_time_zone(tz) then tz else 'UTC' end
  )
  on conflict (id) do nothing;
  return new;
end
$$;
comment on function private.tg_users__create_profile() is
  'Creates public.profiles for a new auth.users row (role student; name and zone from sign-up metadata).';
revoke execute on function private.tg_users__create_profile() from public, anon, authenticated;

drop trigger if exists _100_create_profile on auth.users;
create trigger _100_create_profile
  after insert on auth.users
  for each row execute function private.tg_users__create_profile();

create or replace function private.tg_users__sync_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = new.email where id = new.id;
  return new;
end
$$;
comment on function private.tg_users__sync_email() is 'Keeps profiles.email equal to auth.users.email.';
revoke execute on function private.tg_users__sync_email() from public, anon, authenticated;

drop trigger if exists _200_sync_email on auth.users;
create trigger _200_sync_email
  after update of email on auth.users
  for each row when (old.email is distinct from new.email)
  execute function private.tg_users__sync_email();

-- A mentors row only for a profile whose role is mentor.
create or replace function private.tg_mentors__require_mentor_role()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select from public.profiles p where p.id = new.id and p.role = 'mentor') then
    perform private.refuse(422, format('profile %s is not a mentor', new.id), hint => 'Set profiles.role to mentor first (admins only).');
  end if;
  return new;
end
$$;
comment on function private.tg_mentors__require_mentor_role() is
  'Refuses a mentors row for a profile whose role is not mentor.';
revoke execute on function private.tg_mentors__require_mentor_role() from public, anon, authenticated;

drop trigger if exists _100_require_mentor_role on public.mentors;
create trigger _100_require_mentor_role
  before insert on public.mentors
  for each row execute function private.tg_mentors__require_mentor_role();

-- A mentor's role does not change while their mentors row exists: policies trust mentor_id, so a
-- demoted mentor would keep reading their students' rows.
create or replace function private.tg_profiles__keep_mentor_role()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role = 'mentor' and new.role <> 'mentor'
     and exists (select from public.mentors m where m.id = new.id) then
    perform private.refuse(409, format('profile %s is a mentor with a mentor profile; its role cannot change', new.id),
      hint => 'Deactivate the mentor (mentors.is_active = false) instead.');
  end if;
  return new;
end
$$;
comment on function private.tg_profiles__keep_mentor_role() is
  'Refuses changing the role of a profile that has a mentors row.';
revoke execute on function private.tg_profiles__keep_mentor_role() from public, anon, authenticated;

drop trigger if exists _100_keep_mentor_role on public.profiles;
create trigger _100_keep_mentor_role
  before update of role on public.profiles
  for each row execute function private.tg_profiles__keep_mentor_role();

-- >>> sql/rules/relationships.sql
-- A student's mentors and a mentor's students, one row per relationship (a mentor and a student
-- who ever had a pack together), live: what the dashboards show at the top of each page. Each
-- reads only the caller's own relationships (security definer; the filter is the caller), so a
-- page needs one call, not a read of every pack, session and seat.
--
-- Per relationship: the sessions left on live packs (active and not expired), booked and used over
-- all packs, the last session that took place (completed or a no-show) and the next scheduled
-- one, the latest pack (its status and expiry), the live seat (or released) with its grace end,
-- one_session_left (live packs hold exactly one session and none is scheduled: the renewal
-- reminder's moment), and renew_product_id: the latest pack's product while it is still sold, the
-- product create_order takes to renew.

-- side: 'mentor_id' (a mentor's students) or 'student_id' (a student's mentors); person: whose;
-- side 'all': every relationship (person is ignored; the admins' export reads it).
-- Dynamic SQL on purpose: the query is planned with the side's column and the person's id, so
-- every table is read through its index on that column (a query written for both sides, with
-- "x is null or ..." filters, read every pack and session: 190 ms at 1M sessions).
create or replace function private.relationships(side text, person uuid)
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $fn$
-- The OUT columns are filled by `return query execute`, which plpgsql_check cannot follow (it
-- warns that each is "maybe unmodified"); the query's columns are checked by the tests instead.
-- @plpgsql_check_options: extra_warnings = false
begin
  if side is null or side not in ('mentor_id', 'student_id', 'all') then
    raise exception 'private.relationships: side must be mentor_id, student_id or all, not %', side;
  end if;
  return query execute format($q$
  with packs as (
    select p.* from public.session_packs p where %1$s
  ),
  pairs as (
    select p.mentor_id, p.student_id,
           coalesce(sum(p.remaining_sessions) filter (where p.status = 'active' and p.expires_at > $2), 0)::integer as remaining,
           sum(p.sessions_total)::integer as total
      from packs p group by 1, 2
  ),
  latest as (
    select distinct on (p.mentor_id, p.student_id) p.mentor_id, p.student_id, p.id, p.status, p.expires_at, p.product_id
      from packs p order by p.mentor_id, p.student_id, p.purchased_at desc, p.id desc
  ),
  sessions as (
    select s.mentor_id, s.student_id,
           count(*) filter (where s.status = 'completed')::integer as completed,
           max(s.starts_at) filter (where s.status in ('completed', 'student_no_show', 'mentor_no_show')) as last_at,
           min(s.starts_at) filter (where s.status = 'scheduled' and s.starts_at > $2) as next_at
      from public.sessions s where %2$s
     group by 1, 2
  )
  select pairs.mentor_id, m.public_name, m.time_zone,
         pairs.student_id, sp.display_name, sp.time_zone,
         pairs.remaining, pairs.total, coalesce(sessions.completed, 0),
         sessions.last_at, sessions.next_at,
         latest.id, latest.status::text, latest.expires_at,
         coalesce(seat.status::text, 'released'), seat.grace_ends_at,
         pairs.remaining = 1 and sessions.next_at is null,
         case when product.is_active then product.id end
    from pairs
    join public.mentors m on m.id = pairs.mentor_id
    join public.profiles sp on sp.id = pairs.student_id
    join latest on latest.mentor_id = pairs.mentor_id and latest.student_id = pairs.student_id
    left join sessions on sessions.mentor_id = pairs.mentor_id and sessions.student_id = pairs.student_id
    left join public.mentorship_products product on product.id = latest.product_id
    left join public.seat_reservations seat
      on seat.mentor_id = pairs.mentor_id and seat.student_id = pairs.student_id and seat.status <> 'released'
   order by sessions.next_at nulls last, m.public_name, sp.display_name
  $q$,
    case when side = 'all' then 'true' else format('p.%I = $1', side) end,
    case when side = 'all' then 'true' else format('s.%I = $1', side) end)
  using person, private.clock_now();
end
$fn$;
comment on function private.relationships(text, uuid) is
  'Relationships (a mentor and a student who had a pack) of one mentor (side mentor_id), one student (student_id) or everyone (all), live: sessions left, booked, used, last and next session, latest pack, seat, one_session_left, renew_product_id.';
revoke execute on function private.relationships(text, uuid) from public, anon, authenticated;

-- The caller's own: as the mentor (their students) or as the student (their mentors).
create or replace function private.my_relationships(as_mentor boolean)
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language sql
stable
security definer
set search_path = ''
as $$
  select * from private.relationships(case when as_mentor then 'mentor_id' else 'student_id' end,
                                      (select auth.uid()))
  where (select auth.uid()) is not null
$$;
comment on function private.my_relationships(boolean) is
  'The caller''s relationships: as the mentor (their students) or as the student (their mentors).';
revoke execute on function private.my_relationships(boolean) from public, anon;
grant execute on function private.my_relationships(boolean) to authenticated;

create or replace function public.my_mentors()
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.my_relationships(false);
end
$$;
comment on function public.my_mentors() is
$$Your mentors (every mentor you ever had a pack with), one row each, next session first: sessions left on live packs (sessions_remaining) of those bought (sessions_total), completed, the last session that took place and the next scheduled one, the latest pack (status, expiry), your seat (hold, active, grace with its end, or released), one_session_left (one session left and none booked: time to renew) and renew_product_id (the product to renew with create_order, while it is still sold; null otherwise).
Arguments: none. Errors: none (no rows when you never had a pack).$$;
revoke execute on function public.my_mentors() from public, anon;
grant execute on function public.my_mentors() to authenticated;

create or replace function public.my_mentees()
returns table (
  mentor_id uuid, mentor_name text, mentor_time_zone text,
  student_id uuid, student_name text, student_time_zone text,
  sessions_remaining integer, sessions_total integer, sessions_completed integer,
  last_session_at timestamptz, next_session_at timestamptz,
  current_pack_id uuid, current_pack_status text, current_pack_expires_at timestamptz,
  seat_status text, seat_grace_ends_at timestamptz,
  one_session_left boolean, renew_product_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.my_relationships(true);
end
$$;
comment on function public.my_mentees() is
$$Your students as a mentor (everyone who ever had a pack with you), one row each, next session first: the same columns as my_mentors; one_session_left lists whom to remind to renew.
Arguments: none. Errors: none (no rows when you are not a mentor or nobody bought a pack yet).$$;
revoke execute on function public.my_mentees() from public, anon;
grant execute on function public.my_mentees() to authenticated;

-- >>> sql/rules/reports.sql
-- Building the reports (dbt, dbt/): who may start a build and when, and what a finished build
-- records. The builders are `mentorships reports build` (trigger 'command'), `make demo`
-- ('demo') and the schedule, python -m sync.reports ('schedule'); each claims a run here, runs
-- `dbt build`, and finishes the run here. They connect directly (dbt needs a Postgres
-- connection anyway) as the database owner or the service role; the API roles may not call these.
--
--   claim_report_build --> running --finish_report_build--> succeeded | failed
--                             '------lease ran out (next claim)--> failed
--
-- One run is live at a time: claims take an advisory lock, and a unique index allows one
-- 'running' row. A scheduled build is due when the last finished run started at least
-- platform_settings.report_build_interval_minutes ago (or there is none); a command or demo
-- build is due whenever no run is live.
--
-- What a run builds (its kind), decided at the claim:
--   selected     a selector was given: those models (and their tests) only;
--   full         asked for; or no succeeded full build of this project_checksum started within
--                platform_settings.report_full_build_hours: every model rebuilt, every test;
--   incremental  otherwise: the incremental models from their watermarks, the other marts
--                rebuilt, their tests; not the staging views (unchanged since the full build of
--                the same project) nor their tests, nor the unit tests.

-- The signature before the run's kind (an overload would make every call ambiguous).
drop function if exists private.claim_report_build(text, text, text, integer);

create or replace function private.claim_report_build(worker text, trigger text, selector text default null,
                                                      lease_seconds integer default 3600,
                                                      project_checksum text default null,
                                                      full_refresh boolean default false)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  every interval := make_interval(mins => (select s.report_build_interval_minutes from public.platform_settings s where s.id));
  full_every interval := make_interval(hours => (select s.report_full_build_hours from public.platform_settings s where s.id));
  last_start timestamptz;
  run_kind text;
  run_id bigint;
begin
  if coalesce(length(btrim(claim_report_build.worker)), 0) not between 1 and 200 then
    perform private.refuse(422, 'worker must name the builder in 1 to 200 characters',
      hint => 'Send worker as the builder''s name, such as host:pid.', details => 'worker');
  end if;
  if claim_report_build.trigger is null or claim_report_build.trigger not in ('schedule', 'command', 'demo') then
    perform private.refuse(422, format('trigger must be schedule, command or demo (got %s)', private.quoted(claim_report_build.trigger)),
      hint => 'Send trigger as schedule, command or demo.', details => 'trigger');
  end if;
  perform private.check_whole_number(claim_report_build.lease_seconds, 'lease_seconds', 10, 86400);
  if length(claim_report_build.project_checksum) > 100 then
    perform private.refuse(422, 'project_checksum must be at most 100 characters',
      hint => 'Send the dbt project''s checksum as a hex digest.', details => 'project_checksum');
  end if;
  if length(claim_report_build.selector) > 2000 then
    perform private.refuse(422, 'selector must be at most 2000 characters',
      hint => 'Send a shorter dbt --select.', details => 'selector');
  end if;

  -- Claims one at a time (the lock is released when the claim's transaction ends).
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('mentorships.claim_report_build'));

  -- A run whose builder died: failed once its lease has run out.
  update public.report_runs r
     set outcome = 'failed', finished_at = now_,
         error = format('lease ran out: %s stopped before finishing the build', r.claimed_by)
   where r.outcome = 'running' and r.lease_until <= now_;

  if exists (select from public.report_runs r where r.outcome = 'running') then
    return null;
  end if;
  if claim_report_build.trigger = 'schedule' then
    select max(r.started_at) into last_start from public.report_runs r where r.outcome in ('succeeded', 'failed');
    if last_start is not null and last_start > now_ - every then
      return null;
    end if;
  end if;

  run_kind := case
    when nullif(btrim(claim_report_build.selector), '') is not null then 'selected'
    when coalesce(claim_report_build.full_refresh, false) then 'full'
    when claim_report_build.project_checksum is null then 'full'
    when not exists (
      select from public.report_runs r
       where r.kind = 'full' and r.outcome = 'succeeded'
         and r.project_checksum = claim_report_build.project_checksum
         and r.started_at > now_ - full_every) then 'full'
    else 'incremental' end;

  insert into public.report_runs (started_at, trigger, selector, claimed_by, lease_until, kind, project_checksum)
  values (now_, claim_report_build.trigger, nullif(btrim(claim_report_build.selector), ''),
          btrim(claim_report_build.worker), now_ + make_interval(secs => claim_report_build.lease_seconds),
          run_kind, claim_report_build.project_checksum)
  returning id into run_id;
  return run_id;
end
$$;
comment on function private.claim_report_build(text, text, text, integer, text, boolean) is
  'Starts a report build: the new run''s id, or null when a run is live or (trigger schedule) the last finished run started less than report_build_interval_minutes ago. Marks a run whose lease ran out failed first. The run''s kind: selected (a selector), full (asked, or no succeeded full build of project_checksum within report_full_build_hours) or incremental.';
revoke execute on function private.claim_report_build(text, text, text, integer, text, boolean) from public, anon, authenticated;
grant execute on function private.claim_report_build(text, text, text, integer, text, boolean) to service_role;

-- Rows of every table in analytics, counted now: {"mart": rows}.
create or replace function private.analytics_row_counts()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  mart text;
  n bigint;
  counts jsonb := '{}'::jsonb;
begin
  for mart in
    select c.relname::text from pg_catalog.pg_class c join pg_catalog.pg_namespace s on s.oid = c.relnamespace
     where s.nspname = 'analytics' and c.relkind in ('r', 'p') order by c.relname
  loop
    execute format('select count(*) from analytics.%I', mart) into n;
    counts := counts || jsonb_build_object(mart, n);
  end loop;
  return counts;
end
$$;
comment on function private.analytics_row_counts() is
  'Rows of every table in the analytics schema, as {"mart": rows}.';
revoke execute on function private.analytics_row_counts() from public, anon, authenticated;
grant execute on function private.analytics_row_counts() to service_role;

create or replace function private.finish_report_build(run_id bigint, outcome text, error text default null,
                                                       dbt_version text default null)
returns public.report_runs
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  run public.report_runs;
begin
  if finish_report_build.outcome is null or finish_report_build.outcome not in ('succeeded', 'failed') then
    perform private.refuse(422, format('outcome must be succeeded or failed (got %s)', private.quoted(finish_report_build.outcome)),
      hint => 'Send outcome as succeeded or failed.', details => 'outcome');
  end if;
  update public.report_runs r
     set outcome = finish_report_build.outcome,
         finished_at = private.clock_now(),
         error = left(nullif(btrim(finish_report_build.error), ''), 2000),
         dbt_version = left(finish_report_build.dbt_version, 100),
         rows_per_mart = private.analytics_row_counts()
   where r.id = finish_report_build.run_id and r.outcome = 'running'
  returning * into run;
  if run.id is null then
    select * into run from public.report_runs r where r.id = finish_report_build.run_id;
    if run.id is null then
      perform private.refuse(404, format('report run %s does not exist', finish_report_build.run_id),
        hint => 'Finish the run claim_report_build returned.', details => 'run_id');
    end if;
    perform private.refuse(409, format('report run %s already ended (%s%s)', run.id, run.outcome,
                                       coalesce(': ' || run.error, '')),
      hint => 'A run ends once; a run whose lease ran out was marked failed by the next claim.', details => 'run_id');
  end if;
  -- The marts are new tables after a build: PostgREST reloads its schema cache to serve them.
  perform pg_catalog.pg_notify('pgrst', 'reload schema');
  return run;
end
$$;
comment on function private.finish_report_build(bigint, text, text, text) is
  'Ends a running report build as succeeded or failed, with its error and dbt version, recording the rows of every table in analytics; tells PostgREST to reload its schema cache.';
revoke execute on function private.finish_report_build(bigint, text, text, text) from public, anon, authenticated;
grant execute on function private.finish_report_build(bigint, text, text, text) to service_role;

-- >>> sql/rules/request_ids.sql
-- The request id carried to the workers: a message (public.notifications) or calendar job
-- (private.calendar_jobs) queued while PostgREST serves a request keeps that request's
-- X-Request-Id (made or passed on by the gateway), so the dispatcher and the calendar worker can
-- log it with the message or job. Null outside a request (pg_cron jobs, psql, the tests' SQL).

-- The X-Request-Id of the request being served, when it has the shape of one: 1 to 128 letters,
-- digits and . _ : - (nginx's $request_id, a UUID, a client's own token). Anything else is
-- dropped, not refused: a malformed header must never stop a booking.
create or replace function private.current_request_id()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  headers text := pg_catalog.current_setting('request.headers', true);
  id text;
begin
  if headers is null or headers = '' then
    return null;
  end if;
  id := headers::json ->> 'x-request-id';
  if id ~ '^[A-Za-z0-9._:-]{1,128}$' then
    return id;
  end if;
  return null;
exception when others then  -- request.headers is PostgREST's; never let it fail an insert
  return null;
end
$$;
comment on function private.current_request_id() is
  'The X-Request-Id header of the PostgREST request being served (1 to 128 of A-Z a-z 0-9 . _ : -), else null.';
revoke execute on function private.current_request_id() from public, anon;
grant execute on function private.current_request_id() to authenticated, service_role;

-- Whatever an insert sends, the row gets the request's id (or null): nobody writes it.
create or replace function private.tg_request_id__fill()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.request_id := private.current_request_id();
  return new;
end
$$;
comment on function private.tg_request_id__fill() is
  'Sets request_id of a new notification or calendar job to the X-Request-Id of the request that queued it.';
revoke execute on function private.tg_request_id__fill() from public, anon, authenticated;

drop trigger if exists _050_fill_request_id on public.notifications;
create trigger _050_fill_request_id
  before insert on public.notifications
  for each row execute function private.tg_request_id__fill();

drop trigger if exists _050_fill_request_id on private.calendar_jobs;
create trigger _050_fill_request_id
  before insert on private.calendar_jobs
  for each row execute function private.tg_request_id__fill();

-- >>> sql/rules/seats/capacity.sql
-- Seats: capacity. One function counts the seats a mentor has given (seats_taken); the public
-- catalog (catalog.sql) and the capacity trigger below both use it.

-- THE rule of what takes a seat: an active or grace seat, or a hold that has not expired at `at`.
-- except_seat_id leaves one seat out (the capacity trigger's own row).
create or replace function private.seats_taken(mentor_id uuid, at timestamptz, except_seat_id uuid default null)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select count(*)::integer
  from public.seat_reservations s
  where s.mentor_id = seats_taken.mentor_id
    and s.id is distinct from seats_taken.except_seat_id
    and (s.status in ('active', 'grace')
         or (s.status = 'hold' and s.hold_expires_at > seats_taken.at))
$$;
comment on function private.seats_taken(uuid, timestamptz, uuid) is
  'Seats a mentor has given at a time: active + grace + holds not expired then (optionally leaving one seat out).';
revoke execute on function private.seats_taken(uuid, timestamptz, uuid) from public, anon, authenticated;

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
  used := private.seats_taken(new.mentor_id, now_, except_seat_id => new.id);
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

-- >>> sql/rules/seats/lifecycle.sql
-- Seats and pack life cycle: depletion, grace, renewal. Called by the booking and payment rules
-- and by the jobs in jobs.sql; all are idempotent.

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

-- >>> sql/rules/timestamps.sql
-- Rows are stamped with the business clock (private.clock_now(): now() in production, the frozen
-- instant in tests and in a demo history played through the real RPCs), never with now() itself:
-- a row written at a frozen clock records the instant the rules saw.

-- The stamp column defaults call. Whoever inserts evaluates a default, PostgREST's
-- `authenticated` role too (a mentor adding a product), and that role may neither use schema
-- private nor read the clock: a definer, granted to the roles that write rows. A default stores
-- the function by OID, so only EXECUTE is checked, not USAGE on private (the pgTAP file
-- timestamps.sql shows it). Explicit values still win, as they did over now().
create or replace function private.stamp_now()
returns timestamptz
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.clock_now();
end
$$;
comment on function private.stamp_now() is
  'The business clock (private.clock_now()) for column defaults and the updated_at trigger: executable by every role that writes rows.';
revoke execute on function private.stamp_now() from public, anon;
grant execute on function private.stamp_now() to authenticated, service_role;

-- Columns that say when a row was written or changed, or that are due "from now": created_at and
-- updated_at of every table, and these. Only a default that is not the stamp yet is altered, so a
-- re-run takes no lock.
do $$
declare
  col record;
begin
  for col in
    select c.oid::regclass as tbl, a.attname
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname in ('public', 'private') and c.relkind = 'r'
      and (a.attname in ('created_at', 'updated_at')
           or (n.nspname, c.relname, a.attname) in (
             ('public', 'notifications', 'send_after'),          -- due at once unless given
             ('public', 'promotion_codes', 'valid_from'),        -- valid from its creation
             ('private', 'webhook_events', 'received_at'),
             ('private', 'calendar_jobs', 'requested_at'),
             ('private', 'google_credentials', 'connected_at'),
             ('private', 'calendar_busy_intervals', 'synced_at'),
             ('private', 'calendar_sync_state', 'next_sync_at')  -- due at once
           ))
      and pg_catalog.pg_get_expr(d.adbin, d.adrelid) is distinct from 'private.stamp_now()'
  loop
    execute format('alter table %s alter column %I set default private.stamp_now()', col.tbl, col.attname);
  end loop;
end
$$;

-- updated_at on every table that has one. A definer for the same reason as stamp_now: the API
-- roles update rows directly (products, profiles, mentors).
create or replace function private.tg__set_updated_at()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.updated_at := private.clock_now();
  return new;
end
$$;
comment on function private.tg__set_updated_at() is 'Sets updated_at to the business clock (private.clock_now()).';
revoke execute on function private.tg__set_updated_at() from public, anon, authenticated;

do $$
declare
  t regclass;
begin
  for t in
    select c.oid::regclass
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
    where n.nspname in ('public', 'private') and c.relkind = 'r'
  loop
    execute format('drop trigger if exists _900_set_updated_at on %s', t);
    execute format(
      'create trigger _900_set_updated_at before update on %s '
      'for each row execute function private.tg__set_updated_at()', t);
  end loop;
end
$$;

-- >>> sql/rls/audit_log.sql
alter table public.audit_log enable row level security;
revoke all on table public.audit_log from anon, authenticated, service_role;
grant select on table public.audit_log to authenticated;
-- Append-only, for the service role too.
grant select, insert on table public.audit_log to service_role;

create policy "admins read the audit log" on public.audit_log
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/calendar_event_changes.sql
alter table public.calendar_event_changes enable row level security;
revoke all on table public.calendar_event_changes from anon, authenticated, service_role;
-- A mentor reads the flags of their own sessions (and resolves them only through
-- resolve_calendar_change); admins read all. The calendar sync writes them (calendar_synced).
grant select on table public.calendar_event_changes to authenticated, service_role;

create policy "mentors read their sessions' calendar changes" on public.calendar_event_changes
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all calendar changes" on public.calendar_event_changes
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/mentor_calendars.sql
alter table public.mentor_calendars enable row level security;
revoke all on table public.mentor_calendars from anon, authenticated, service_role;
-- A mentor reads their own calendars and changes them only through choose_google_calendars (it
-- checks the ids are theirs and the events calendar writable); admins read everyone's. The
-- services list them as the service role (google_connected, store_google_calendars).
grant select on table public.mentor_calendars to authenticated;
grant select, insert, update, delete on table public.mentor_calendars to service_role;

create policy "mentors read their own calendars" on public.mentor_calendars
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all calendars" on public.mentor_calendars
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/mentors.sql
alter table public.mentors enable row level security;
revoke all on table public.mentors from anon, authenticated, service_role;
grant select on table public.mentors to anon, authenticated;
-- A mentor's own: the public profile, when they work (zone, hours) and how they are booked (slot
-- length, grid, buffer, notice, horizon: each read by the next booking, never by a booked
-- session), and whether they take new students. Capacity and is_active are the admins'.
grant update (public_name, headline, bio, avatar_url, portfolio_url, time_zone, working_hours,
  slot_minutes, slot_grid_minutes, buffer_minutes, min_notice_minutes, booking_horizon_days,
  accepting_students) on table public.mentors to authenticated;
grant select, insert, update, delete on table public.mentors to service_role;

create policy "visitors read active mentors" on public.mentors
  for select to anon using (is_active);
create policy "signed-in users read active mentors" on public.mentors
  for select to authenticated using (is_active);
create policy "mentors read their own mentor row" on public.mentors
  for select to authenticated using (id = (select auth.uid()));
create policy "admins read all mentors" on public.mentors
  for select to authenticated using ((select private.is_admin()));
create policy "mentors update their own mentor row" on public.mentors
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- >>> sql/rls/mentorship_products.sql
alter table public.mentorship_products enable row level security;
revoke all on table public.mentorship_products from anon, authenticated, service_role;
grant select on table public.mentorship_products to anon, authenticated;
grant insert (mentor_id, title, description, sessions_count, validity_days, price_cents, currency,
  is_active) on table public.mentorship_products to authenticated;
grant update (title, description, sessions_count, validity_days, price_cents, is_active)
  on table public.mentorship_products to authenticated;
grant select, insert, update, delete on table public.mentorship_products to service_role;

create policy "visitors read active products of active mentors" on public.mentorship_products
  for select to anon using (is_active and mentor_id in (select m.id from public.mentors m));
create policy "signed-in users read active products of active mentors" on public.mentorship_products
  for select to authenticated
  using (is_active and mentor_id in (select m.id from public.mentors m where m.is_active));
create policy "mentors read their own products" on public.mentorship_products
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all products" on public.mentorship_products
  for select to authenticated using ((select private.is_admin()));
create policy "mentors add products of their own" on public.mentorship_products
  for insert to authenticated with check (mentor_id = (select auth.uid()));
create policy "admins add products" on public.mentorship_products
  for insert to authenticated with check ((select private.is_admin()));
create policy "mentors update their own products" on public.mentorship_products
  for update to authenticated
  using (mentor_id = (select auth.uid())) with check (mentor_id = (select auth.uid()));
create policy "admins update all products" on public.mentorship_products
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));

-- >>> sql/rls/notification_preferences.sql
alter table public.notification_preferences enable row level security;
revoke all on table public.notification_preferences from anon, authenticated, service_role;
-- A person switches their own messages; which kinds may be switched is checked by
-- private.tg_notification_preferences__check_input (422). user_id, kind and channel are in the
-- update grant so that a PostgREST upsert (on_conflict=user_id,kind,channel) may set them; the
-- policies keep every row the caller's own. Admins read everyone's and change no one's (not
-- audited: only owners write, and the signed unsubscribe link writes as the service role).
grant select, delete on table public.notification_preferences to authenticated;
grant insert (user_id, kind, channel, enabled), update (user_id, kind, channel, enabled)
  on table public.notification_preferences to authenticated;
grant select, insert, update, delete on table public.notification_preferences to service_role;

create policy "people read their own notification preferences" on public.notification_preferences
  for select to authenticated using (user_id = (select auth.uid()));
create policy "admins read all notification preferences" on public.notification_preferences
  for select to authenticated using ((select private.is_admin()));
create policy "people add their own notification preferences" on public.notification_preferences
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy "people change their own notification preferences" on public.notification_preferences
  for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy "people remove their own notification preferences" on public.notification_preferences
  for delete to authenticated using (user_id = (select auth.uid()));

-- >>> sql/rls/notifications.sql
alter table public.notifications enable row level security;
revoke all on table public.notifications from anon, authenticated, service_role;
-- Queued by rules in the same transaction as their cause; delivered by the dispatcher.
grant select on table public.notifications to authenticated;
grant select, insert, update, delete on table public.notifications to service_role;

create policy "people read their own notifications" on public.notifications
  for select to authenticated using (recipient_id = (select auth.uid()));
create policy "admins read all notifications" on public.notifications
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/orders.sql
alter table public.orders enable row level security;
revoke all on table public.orders from anon, authenticated, service_role;
-- Money: the buyer and admins only, never the mentor. Written by RPCs and webhooks.
grant select on table public.orders to authenticated;
grant select, insert, update, delete on table public.orders to service_role;

create policy "students read their own orders" on public.orders
  for select to authenticated using (student_id = (select auth.uid()));
create policy "admins read all orders" on public.orders
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/payments.sql
alter table public.payments enable row level security;
revoke all on table public.payments from anon, authenticated, service_role;
-- Money: the buyer and admins only, never the mentor. Written by RPCs and webhooks.
grant select on table public.payments to authenticated;
grant select, insert, update, delete on table public.payments to service_role;

create policy "students read their own payments" on public.payments
  for select to authenticated using (student_id = (select auth.uid()));
create policy "admins read all payments" on public.payments
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/platform_settings.sql
alter table public.platform_settings enable row level security;
revoke all on table public.platform_settings from anon, authenticated, service_role;
grant select on table public.platform_settings to anon, authenticated, service_role;
grant update (seat_hold_minutes, grace_period_hours, grace_warning_hours, cancel_notice_hours,
  video_join_early_minutes, video_join_late_minutes, default_sessions_per_pack,
  default_pack_validity_days, default_currency, message_max_attempts, message_retry_base_seconds,
  message_retry_max_seconds, report_build_interval_minutes, report_full_build_hours) on table public.platform_settings to authenticated;
grant update on table public.platform_settings to service_role;

create policy "visitors read the platform settings" on public.platform_settings
  for select to anon using (true);
create policy "signed-in users read the platform settings" on public.platform_settings
  for select to authenticated using (true);
create policy "admins update the platform settings" on public.platform_settings
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));

-- >>> sql/rls/profiles.sql
alter table public.profiles enable row level security;
revoke all on table public.profiles from anon, authenticated, service_role;
grant select on table public.profiles to authenticated;
-- discord_user_id is not in the grant: only Discord's OAuth2 flow sets it (public.link_discord, service
-- role), and its owner clears it (public.unlink_discord); see sql/rules/discord_links.sql.
grant update (display_name, time_zone) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

create policy "people read their own profile" on public.profiles
  for select to authenticated using (id = (select auth.uid()));
create policy "mentors read their students' profiles" on public.profiles
  for select to authenticated using (id in (select private.my_student_ids()));
create policy "admins read all profiles" on public.profiles
  for select to authenticated using ((select private.is_admin()));
create policy "people update their own profile" on public.profiles
  for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

-- >>> sql/rls/promotion_codes.sql
alter table public.promotion_codes enable row level security;
revoke all on table public.promotion_codes from anon, authenticated, service_role;
-- Students never list codes: they type one and create_order checks it.
grant select on table public.promotion_codes to authenticated;
grant insert (code, percent_off, amount_off_cents, currency, valid_from, valid_until,
  max_redemptions, product_id, mentor_id, is_active) on table public.promotion_codes to authenticated;
grant update (valid_until, max_redemptions, is_active) on table public.promotion_codes to authenticated;
grant select, insert, update, delete on table public.promotion_codes to service_role;

create policy "admins read all promotion codes" on public.promotion_codes
  for select to authenticated using ((select private.is_admin()));
create policy "mentors read codes scoped to them" on public.promotion_codes
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins create promotion codes" on public.promotion_codes
  for insert to authenticated with check ((select private.is_admin()));
create policy "admins update promotion codes" on public.promotion_codes
  for update to authenticated
  using ((select private.is_admin())) with check ((select private.is_admin()));

-- >>> sql/rls/report_runs.sql
alter table public.report_runs enable row level security;
revoke all on table public.report_runs from anon, authenticated, service_role;
-- Admins read every run (the reports' "as of"); the builds write them through
-- private.claim_report_build and private.finish_report_build, never through the API.
grant select on table public.report_runs to authenticated, service_role;

create policy "admins read the report runs" on public.report_runs
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/seat_reservations.sql
alter table public.seat_reservations enable row level security;
revoke all on table public.seat_reservations from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.seat_reservations to authenticated;
grant select, insert, update, delete on table public.seat_reservations to service_role;

create policy "students read their own seats" on public.seat_reservations
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' seats" on public.seat_reservations
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all seats" on public.seat_reservations
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/session_credit_ledger.sql
alter table public.session_credit_ledger enable row level security;
revoke all on table public.session_credit_ledger from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.session_credit_ledger to authenticated;
-- Append-only, for the service role too.
grant select, insert on table public.session_credit_ledger to service_role;

create policy "students read their own credit entries" on public.session_credit_ledger
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' credit entries" on public.session_credit_ledger
  for select to authenticated using (mentor_id = (select auth.uid()));
create policy "admins read all credit entries" on public.session_credit_ledger
  for select to authenticated using ((select private.is_admin()));

-- >>> sql/rls/session_packs.sql
alter table public.session_packs enable row level security;
revoke all on table public.session_packs from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.session_packs to authenticated;
grant select, insert, update, delete on table public.session_packs to service_role;

create policy "students read their own packs" on public.session_packs
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' packs" on public.session_packs
  for select to authenticated using (mentor_id = (select auth.uid()));
-- every mentor's rows, written as an index condition (private.admin_mentor_ids says why)
create policy "admins read all packs" on public.session_packs
  for select to authenticated
  using (mentor_id = any ((select private.admin_mentor_ids())::uuid[]));

-- >>> sql/rls/sessions.sql
alter table public.sessions enable row level security;
revoke all on table public.sessions from anon, authenticated, service_role;
-- Changed only through RPCs (security definer); clients read.
grant select on table public.sessions to authenticated;
grant select, insert, update, delete on table public.sessions to service_role;

create policy "students read their own sessions" on public.sessions
  for select to authenticated using (student_id = (select auth.uid()));
create policy "mentors read their students' sessions" on public.sessions
  for select to authenticated using (mentor_id = (select auth.uid()));
-- every mentor's rows, written as an index condition (private.admin_mentor_ids says why)
create policy "admins read all sessions" on public.sessions
  for select to authenticated
  using (mentor_id = any ((select private.admin_mentor_ids())::uuid[]));

notify pgrst, 'reload schema';
