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
