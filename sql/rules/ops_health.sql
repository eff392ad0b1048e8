-- The shared health read (issue 15, operations): public.ops_health(), the figures the services'
-- GET /metrics turns into gauges and `mentorships status` shows. Written to the contract of the
-- issue: one jsonb object of at, outbox, messages, calendar, calendar_jobs, reports and
-- webhooks; counts are integers, ages seconds (null when there is nothing to measure), "now" is
-- the rules' clock (private.clock_now()), so a frozen clock freezes the ages too.

create or replace function private.ops_health()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  now_ constant timestamptz := private.clock_now();
begin
  if not ((select auth.role()) = 'service_role' or private.is_admin()) then
    perform private.refuse(403, 'only admins and the service role read the platform''s health',
      hint => 'Sign in with an admin account.');
  end if;
  return jsonb_build_object(
    'at', now_,
    'outbox', (
      select jsonb_build_object(
        'pending', count(*) filter (where n.status = 'pending'),
        'due', count(*) filter (where n.status = 'pending' and greatest(n.send_after, n.next_attempt_at) <= now_),
        'oldest_due_age_seconds', extract(epoch from now_ - min(greatest(n.send_after, n.next_attempt_at))
                                          filter (where n.status = 'pending'
                                                    and greatest(n.send_after, n.next_attempt_at) <= now_))::float8,
        'failed', count(*) filter (where n.status = 'failed'),
        'sent', count(*) filter (where n.status = 'sent'))
        from public.notifications n),
    'messages', (
      select coalesce(jsonb_agg(jsonb_build_object('channel', m.channel, 'status', m.status, 'count', m.n)
                                order by m.channel, m.status), '[]')
        from (select n.channel::text as channel, n.status::text as status, count(*) as n
                from public.notifications n group by 1, 2) m),
    'calendar', (
      select coalesce(jsonb_agg(jsonb_build_object(
                'mentor_id', g.mentor_id,
                'lag_seconds', extract(epoch from now_ - s.last_synced_at)::float8)
              order by g.mentor_id), '[]')
        from private.google_credentials g
        left join private.calendar_sync_state s on s.mentor_id = g.mentor_id),
    'calendar_jobs', (
      select jsonb_build_object(
        'pending', count(*) filter (where j.processed_at is null),
        'due', count(*) filter (where j.processed_at is null
                                  and coalesce(j.next_attempt_at, j.requested_at) <= now_),
        'oldest_due_age_seconds', extract(epoch from now_ - min(coalesce(j.next_attempt_at, j.requested_at))
                                          filter (where j.processed_at is null
                                                    and coalesce(j.next_attempt_at, j.requested_at) <= now_))::float8,
        'failed', count(*) filter (where j.outcome = 'gave_up'))
        from private.calendar_jobs j),
    'reports', (
      select jsonb_build_object(
        'last_succeeded_at', max(r.finished_at) filter (where r.outcome = 'succeeded'),
        'age_seconds', extract(epoch from now_ - max(r.finished_at) filter (where r.outcome = 'succeeded'))::float8,
        'running', coalesce(bool_or(r.outcome = 'running'), false))
        from public.report_runs r),
    'webhooks', (
      select coalesce(jsonb_agg(jsonb_build_object('provider', w.provider, 'status', w.status, 'count', w.n)
                                order by w.provider, w.status), '[]')
        from (select e.provider::text as provider, coalesce(e.outcome, 'received') as status, count(*) as n
                from private.webhook_events e group by 1, 2) w));
end
$$;
comment on function private.ops_health() is 'See public.ops_health.';
revoke execute on function private.ops_health() from public, anon;
grant execute on function private.ops_health() to authenticated, service_role;

create or replace function public.ops_health()
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.ops_health();
end
$$;
comment on function public.ops_health() is
$$Admins and the service role: the platform's health figures now (the rules' clock): at; outbox {pending, due, oldest_due_age_seconds, failed, sent}; messages [{channel, status, count}]; calendar [{mentor_id, lag_seconds}] (one per mentor with a Google connection, null when never synced); calendar_jobs {pending, due, oldest_due_age_seconds, failed}; reports {last_succeeded_at, age_seconds, running}; webhooks [{provider, status, count}]. Ages in seconds, null when there is nothing to measure.
Errors: 403 PT403 not an admin.$$;
revoke execute on function public.ops_health() from public, anon;
grant execute on function public.ops_health() to authenticated, service_role;
