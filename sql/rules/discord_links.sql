-- Discord links: profiles.discord_user_id, where a person's Discord messages go, is written only
-- here. The services set it after Discord's OAuth2 flow has shown the account is the person's
-- (GET /oauth/discord/callback, as the service role: link_discord); the person may unlink
-- (unlink_discord). No client writes the column directly (sql/rls/profiles.sql); its form is
-- still checked by private.tg_profiles__check_input (sql/rules/input_checks.sql).

create or replace function private.link_discord(user_id uuid, discord_user_id text)
returns public.profiles
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  p public.profiles;
begin
  perform from public.profiles x where x.id = link_discord.user_id for update;
  if not found then
    perform private.refuse(404, format('no profile with id %s', link_discord.user_id), details => 'user_id');
  end if;
  -- profiles.discord_user_id is unique: one Discord account, one profile. (A lost race is the
  -- unique violation, which PostgREST answers 409 too.)
  if exists (select from public.profiles x
              where x.discord_user_id = link_discord.discord_user_id and x.id <> link_discord.user_id) then
    perform private.refuse(409, 'this Discord account is linked to another profile',
      hint => 'Unlink it from that profile first (unlink_discord), or sign in to Discord with another account.',
      details => 'discord_user_id');
  end if;
  update public.profiles x set discord_user_id = link_discord.discord_user_id
   where x.id = link_discord.user_id
  returning * into p;
  return p;
end
$$;
comment on function private.link_discord(uuid, text) is
  'See public.link_discord: stores the Discord user id the OAuth2 flow verified for user_id.';
revoke execute on function private.link_discord(uuid, text) from public, anon, authenticated;
grant execute on function private.link_discord(uuid, text) to service_role;

create or replace function private.unlink_discord()
returns public.profiles
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me constant uuid := (select auth.uid());
  p public.profiles;
begin
  update public.profiles x set discord_user_id = null where x.id = me returning * into p;
  if not found then
    perform private.refuse(404, 'you have no profile', hint => 'Sign in with an account of this platform.');
  end if;
  return p;
end
$$;
comment on function private.unlink_discord() is
  'See public.unlink_discord: clears the caller''s own Discord user id.';
revoke execute on function private.unlink_discord() from public, anon;
grant execute on function private.unlink_discord() to authenticated;
