-- The request id carried to the workers (issue 15): a message or calendar job queued while
-- serving an API request keeps that request's X-Request-Id, so the dispatcher's and the calendar
-- worker's log lines about it can be joined to the gateway's and PostgREST's lines of the request.
-- Filled by a trigger (sql/rules/request_ids.sql) from PostgREST's request.headers; null for rows
-- queued outside a request (pg_cron jobs, psql). Nobody writes it through the API: clients have
-- no insert or update on either table, and the trigger overwrites what an insert sends.

alter table public.notifications
  add column request_id text check (length(request_id) between 1 and 128);
comment on column public.notifications.request_id is
  'X-Request-Id of the API request that queued it (null: queued by a job or outside a request).';

alter table private.calendar_jobs
  add column request_id text check (length(request_id) between 1 and 128);
comment on column private.calendar_jobs.request_id is
  'X-Request-Id of the API request that queued it (null: queued by a job or outside a request).';

-- ops_health counts the webhooks by provider and outcome (an index-only scan; webhooks are few
-- writes) and the calendar jobs that gave up (a few rows of a table that only grows). The outbox
-- gets no (channel, status) index: measured at 2M messages it did not make ops_health faster,
-- and every delivery would pay for it.
create index if not exists webhook_events_provider_outcome_idx on private.webhook_events (provider, outcome);
create index if not exists calendar_jobs_gave_up_idx on private.calendar_jobs (id) where outcome = 'gave_up';
