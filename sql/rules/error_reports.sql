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
