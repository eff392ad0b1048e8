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
