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
