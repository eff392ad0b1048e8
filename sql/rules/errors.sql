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
