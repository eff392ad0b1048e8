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
