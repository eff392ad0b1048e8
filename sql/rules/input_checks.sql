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
