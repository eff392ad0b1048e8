-- Error reports: client-side errors sent to the services' POST /errors (no sign-in needed; the
-- gateway limits the rate) and the services' own unhandled errors (source 'server'), stored by
-- public.report_error (sql/rules/error_reports.sql), which checks every field and scrubs tokens
-- and keys before anything is stored. Admins read them (public.error_reports); the job
-- prune-error-reports keeps them bounded (30 days, 100000 rows).
create table private.error_reports (
  id bigint generated always as identity primary key,
  source text not null check (source in ('client', 'server')),
  message text not null check (length(message) between 1 and 2000),
  stack text check (length(stack) <= 8000),
  url text check (length(url) <= 2000),
  user_agent text check (length(user_agent) <= 500),
  release text check (length(release) <= 100),
  context jsonb check (jsonb_typeof(context) = 'object' and octet_length(context::text) <= 16384),
  request_id text check (request_id ~ '^[A-Za-z0-9._-]{8,128}$'),
  created_at timestamptz not null
);
comment on table private.error_reports is 'Error reports: client-side errors (POST /errors) and the services'' unhandled errors, scrubbed of tokens and keys before they were stored.';
comment on column private.error_reports.id is 'Report number (what POST /errors answers).';
comment on column private.error_reports.source is 'client (POST /errors) or server (an unhandled error in the services).';
comment on column private.error_reports.message is 'The error''s message (scrubbed).';
comment on column private.error_reports.stack is 'The stack trace (scrubbed).';
comment on column private.error_reports.url is 'The page (client) or the path (server) it happened at (scrubbed).';
comment on column private.error_reports.user_agent is 'The browser''s user agent, as the client reported it.';
comment on column private.error_reports.release is 'The client''s release or version, as reported.';
comment on column private.error_reports.context is 'Anything else the client sent, a JSON object (scrubbed).';
comment on column private.error_reports.request_id is 'The X-Request-Id of the request that stored it (the same in every log line of that request).';
comment on column private.error_reports.created_at is 'When it was stored (the rules'' clock).';
create index error_reports_created_at_idx on private.error_reports (created_at);
alter table private.error_reports enable row level security;
