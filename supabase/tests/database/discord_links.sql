-- Discord links (sql/rules/discord_links.sql): who may call link_discord and unlink_discord, and
-- what each writes. Over HTTP: tests/sql/rules/test_discord_links.py and the OAuth flow in
-- tests/sync/discord/test_oauth.py.
--
-- Ids used below:
--   student A cccccccc-0000-0000-0000-00000000000a   student B cccccccc-0000-0000-0000-00000000000b
begin;
set search_path = public, extensions;
select plan(14);

select tests.create_rls_world();
update public.profiles set discord_user_id = '112233445566778899' where id = 'cccccccc-0000-0000-0000-00000000000b';

-- === privileges: who may execute what ===
select function_privs_are('public', 'link_discord', array['text', 'text'], 'anon', array[]::text[],
  'anon cannot link a Discord account');
select function_privs_are('public', 'link_discord', array['text', 'text'], 'authenticated', array[]::text[],
  'no signed-in user (student, mentor, admin) links a Discord account directly');
select function_privs_are('public', 'link_discord', array['text', 'text'], 'service_role', array['EXECUTE'],
  'the services link the account Discord vouched for');
select function_privs_are('private', 'link_discord', array['uuid', 'text'], 'authenticated', array[]::text[],
  'nor is the private helper callable by a signed-in user');
select function_privs_are('public', 'unlink_discord', array[]::text[], 'anon', array[]::text[],
  'anon has nothing to unlink');
select function_privs_are('public', 'unlink_discord', array[]::text[], 'authenticated', array['EXECUTE'],
  'a signed-in user unlinks their own account');

-- === the service role (GET /oauth/discord/callback) ===
select tests.authenticate_as_service_role();
select is((select discord_user_id from public.link_discord('cccccccc-0000-0000-0000-00000000000a', '80351110224678912')),
  '80351110224678912', 'service role: links student A''s verified account');
select is(tests.refusal($$select public.link_discord('cccccccc-0000-0000-0000-00000000000a', 'abc')$$),
  'PT422: discord_user_id: "abc" is not a Discord user id', 'service role: the form is still checked');
select is(tests.refusal($$select public.link_discord('cccccccc-0000-0000-0000-0000000000ff', '80351110224678912')$$),
  'PT404: no profile with id cccccccc-0000-0000-0000-0000000000ff', 'service role: an unknown person');
select tests.clear_authentication();

-- === student A ===
select tests.authenticate_as('rls_a');
select throws_ok($$select public.link_discord('cccccccc-0000-0000-0000-00000000000a', '99999999999999999')$$,
  '42501', 'permission denied for function link_discord', 'student A: cannot link an account herself');
select is((select discord_user_id from public.unlink_discord()), null, 'student A: unlinks her account');
select tests.clear_authentication();

-- === anon ===
select tests.authenticate_as_anon();
select throws_ok($$select public.unlink_discord()$$, '42501', 'permission denied for function unlink_discord',
  'anon: cannot unlink');
select tests.clear_authentication();

-- === superuser: what landed afterwards ===
select results_eq(
  $$select id, discord_user_id from public.profiles
     where id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b') order by id$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid, null::text),
           ('cccccccc-0000-0000-0000-00000000000b', '112233445566778899')$$,
  'afterwards: A linked then unlinked; B''s link untouched by A''s unlink');
select is((select count(*)::integer from public.profiles where discord_user_id = '99999999999999999'), 0,
  'afterwards: the account A tried to link herself is nowhere');

select * from finish();
rollback;
