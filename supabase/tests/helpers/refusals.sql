-- pgTAP helpers, installed on test databases only (mentorships.db.prepare_test_database).
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- The refusal a statement raises, as 'PT409: the message' (private.refuse raises PostgREST's
-- SQLSTATE 'PGRST' with the JSON body as its message and the HTTP status as its detail);
-- 'no refusal' when it runs through. Fails when the status and the code disagree.
create or replace function tests.refusal(statement text)
returns text
language plpgsql
as $$
declare
  body text;
  status text;
begin
  execute statement;
  return 'no refusal';
exception when sqlstate 'PGRST' then
  get stacked diagnostics body = message_text, status = pg_exception_detail;
  if 'PT' || (status::json ->> 'status') <> body::json ->> 'code' then
    raise exception 'status % does not match code %', status, body;
  end if;
  return format('%s: %s', body::json ->> 'code', body::json ->> 'message');
end
$$;
grant execute on function tests.refusal(text) to anon, authenticated, service_role;
