-- Google Calendar: the sealed grants after connecting. The calendar sync reads a grant
-- (google_credentials_of), the services revoke queued grants at Google (google_revocations_due,
-- google_revoked), `mentorships gcal rotate-key` re-seals them under the newest key
-- (google_tokens_to_reseal, reseal_google_token). Service role only; no rule can open a token.

create or replace function private.google_revocations_due(for_mentor_id text default null)
returns table (revocation_id bigint, mentor_id uuid, refresh_token_sealed text, key_version integer)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  only_mentor uuid := private.uuid_arg(for_mentor_id, 'for_mentor_id', required => false);
begin
  return query select r.id, r.mentor_id, private.base64_text(r.refresh_token_ciphertext), r.key_version
                 from private.google_revocations r
                where only_mentor is null or r.mentor_id = only_mentor
                order by r.id;
end
$$;
comment on function private.google_revocations_due(text) is 'See public.google_revocations_due.';
revoke execute on function private.google_revocations_due(text) from public, anon, authenticated;
grant execute on function private.google_revocations_due(text) to service_role;

create or replace function public.google_revocations_due(for_mentor_id text default null)
returns table (revocation_id bigint, mentor_id uuid, refresh_token_sealed text, key_version integer)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_revocations_due(for_mentor_id);
end
$$;
comment on function public.google_revocations_due(text) is
$$Service role: the sealed grants waiting to be revoked at Google (for_mentor_id's, or all).
Errors: 422 PT422 malformed for_mentor_id.$$;
revoke execute on function public.google_revocations_due(text) from public, anon, authenticated;
grant execute on function public.google_revocations_due(text) to service_role;

create or replace function private.google_revoked(revocation_id text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  delete from private.google_revocations r
   where r.id = private.integer_arg(revocation_id, 'revocation_id', 1, 2147483647);
  return found;
end
$$;
comment on function private.google_revoked(text) is 'See public.google_revoked.';
revoke execute on function private.google_revoked(text) from public, anon, authenticated;
grant execute on function private.google_revoked(text) to service_role;

create or replace function public.google_revoked(revocation_id text default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.google_revoked(revocation_id);
end
$$;
comment on function public.google_revoked(text) is
$$Service role: Google took the revocation (or already knew the grant dead): its sealed token is deleted. Returns whether it was still there.
Errors: 422 PT422 missing or malformed revocation_id.$$;
revoke execute on function public.google_revoked(text) from public, anon, authenticated;
grant execute on function public.google_revoked(text) to service_role;

create or replace function private.google_credentials_of(for_mentor_id text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, scopes text[],
               calendar_id text, connected_at timestamptz, revoked_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query select g.mentor_id, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.scopes,
                      g.calendar_id, g.connected_at, g.revoked_at
                 from private.google_credentials g
                where g.mentor_id = private.uuid_arg(for_mentor_id, 'for_mentor_id');
end
$$;
comment on function private.google_credentials_of(text) is 'See public.google_credentials_of.';
revoke execute on function private.google_credentials_of(text) from public, anon, authenticated;
grant execute on function private.google_credentials_of(text) to service_role;

create or replace function public.google_credentials_of(for_mentor_id text default null)
returns table (mentor_id uuid, refresh_token_sealed text, key_version integer, scopes text[],
               calendar_id text, connected_at timestamptz, revoked_at timestamptz)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_credentials_of(for_mentor_id);
end
$$;
comment on function public.google_credentials_of(text) is
$$Service role (the calendar sync): for_mentor_id's sealed grant (no row when not connected).
Errors: 422 PT422 missing or malformed for_mentor_id.$$;
revoke execute on function public.google_credentials_of(text) from public, anon, authenticated;
grant execute on function public.google_credentials_of(text) to service_role;

-- --- key rotation ----------------------------------------------------------------------------------

create or replace function private.google_tokens_to_reseal(newest_version text default null, max_rows text default null)
returns table (kind text, id text, refresh_token_sealed text, key_version integer, mentor_id uuid)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  newest integer := private.integer_arg(newest_version, 'newest_version', 1, 1000000);
  n integer := private.integer_arg(max_rows, 'max_rows', 1, 10000);
begin
  return query
    (select 'credential', g.mentor_id::text, private.base64_text(g.refresh_token_ciphertext), g.key_version, g.mentor_id
       from private.google_credentials g where g.key_version <> newest order by g.mentor_id limit n)
    union all
    (select 'revocation', r.id::text, private.base64_text(r.refresh_token_ciphertext), r.key_version, r.mentor_id
       from private.google_revocations r where r.key_version <> newest order by r.id limit n);
end
$$;
comment on function private.google_tokens_to_reseal(text, text) is 'See public.google_tokens_to_reseal.';
revoke execute on function private.google_tokens_to_reseal(text, text) from public, anon, authenticated;
grant execute on function private.google_tokens_to_reseal(text, text) to service_role;

create or replace function public.google_tokens_to_reseal(newest_version text default null, max_rows text default null)
returns table (kind text, id text, refresh_token_sealed text, key_version integer, mentor_id uuid)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.google_tokens_to_reseal(newest_version, max_rows);
end
$$;
comment on function public.google_tokens_to_reseal(text, text) is
$$Service role (`mentorships gcal rotate-key`): up to max_rows stored grants and up to max_rows queued revocations not sealed under newest_version.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.google_tokens_to_reseal(text, text) from public, anon, authenticated;
grant execute on function public.google_tokens_to_reseal(text, text) to service_role;

create or replace function private.reseal_google_token(kind text default null, id text default null,
                                                      previous_sealed text default null,
                                                      refresh_token_sealed text default null,
                                                      key_version text default null)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  previous bytea := private.sealed_arg(previous_sealed, 'previous_sealed');
  sealed bytea := private.sealed_arg(refresh_token_sealed, 'refresh_token_sealed');
  version integer := private.integer_arg(reseal_google_token.key_version, 'key_version', 1, 1000000);
begin
  -- Compare and set: a grant replaced meanwhile (a reconnect) is left as it is.
  if kind = 'credential' then
    update private.google_credentials g set refresh_token_ciphertext = sealed, key_version = version
     where g.mentor_id = private.uuid_arg(reseal_google_token.id, 'id') and g.refresh_token_ciphertext = previous;
  elsif kind = 'revocation' then
    update private.google_revocations r set refresh_token_ciphertext = sealed, key_version = version
     where r.id = private.integer_arg(reseal_google_token.id, 'id', 1, 2147483647) and r.refresh_token_ciphertext = previous;
  else
    perform private.refuse(422, 'kind must be credential or revocation', hint => 'Send kind as google_tokens_to_reseal named it.', details => 'kind');
  end if;
  return found;
end
$$;
comment on function private.reseal_google_token(text, text, text, text, text) is 'See public.reseal_google_token.';
revoke execute on function private.reseal_google_token(text, text, text, text, text) from public, anon, authenticated;
grant execute on function private.reseal_google_token(text, text, text, text, text) to service_role;

create or replace function public.reseal_google_token(kind text default null, id text default null,
                                                      previous_sealed text default null,
                                                      refresh_token_sealed text default null,
                                                      key_version text default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  return private.reseal_google_token(kind, id, previous_sealed, refresh_token_sealed, key_version);
end
$$;
comment on function public.reseal_google_token(text, text, text, text, text) is
$$Service role (`mentorships gcal rotate-key`): replaces one sealed grant by the same token sealed under key_version, if it is still previous_sealed. Returns whether it was replaced.
Errors: 422 PT422 missing or malformed argument.$$;
revoke execute on function public.reseal_google_token(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.reseal_google_token(text, text, text, text, text) to service_role;
