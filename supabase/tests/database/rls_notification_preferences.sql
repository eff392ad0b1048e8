-- Row-level security and grants on public.notification_preferences (sql/rls/), for every actor:
-- a person reads and writes only their own switches, admins read everyone's and write none.
--
-- Ids used below (tests.create_rls_world(), supabase/tests/helpers/):
--   admin      aaaaaaaa-0000-0000-0000-000000000001
--   mentor M1  bbbbbbbb-0000-0000-0000-000000000001
--   students   A cccccccc-0000-0000-0000-00000000000a   B cccccccc-0000-0000-0000-00000000000b
begin;
set search_path = public, extensions;
select plan(17);

select tests.create_rls_world();
insert into public.notification_preferences (user_id, kind, channel, enabled) values
  ('cccccccc-0000-0000-0000-00000000000a', 'session_reminder_1h', 'email', false),
  ('cccccccc-0000-0000-0000-00000000000b', 'renewal_reminder', 'discord', false);

-- === anon (a visitor without an account) ===
select tests.authenticate_as_anon();
select throws_ok($$select * from public.notification_preferences$$, '42501',
  'permission denied for table notification_preferences', 'anon: no access');
select tests.clear_authentication();

-- === student A ===
select tests.authenticate_as('rls_a');
select results_eq($$select kind::text, channel::text, enabled from public.notification_preferences$$,
  $$values ('session_reminder_1h', 'email', false)$$, 'student A: reads only her own switches');
select lives_ok($$insert into public.notification_preferences (kind, channel) values ('renewal_reminder', 'email')$$,
  'student A: turns renewal reminders off by email (user_id defaults to her)');
select throws_ok(
  $$insert into public.notification_preferences (user_id, kind, channel) values ('cccccccc-0000-0000-0000-00000000000b', 'one_session_left', 'email')$$,
  '42501', 'new row violates row-level security policy for table "notification_preferences"',
  'student A: cannot switch student B''s messages');
select is_empty(
  $$update public.notification_preferences set enabled = true where user_id = 'cccccccc-0000-0000-0000-00000000000b' returning id$$,
  'student A: B''s switches are invisible to her update');
select throws_ok(
  $$update public.notification_preferences set user_id = 'cccccccc-0000-0000-0000-00000000000b' where kind = 'renewal_reminder'$$,
  '42501', 'new row violates row-level security policy for table "notification_preferences"',
  'student A: cannot hand her switch to B');
select is(tests.refusal($$update public.notification_preferences set kind = 'pack_purchased' where kind = 'renewal_reminder'$$),
  'PT422: kind: pack_purchased messages may not be turned off',
  'student A: cannot turn a kind into one that may not be turned off');
select throws_ok($$update public.notification_preferences set created_at = now()$$, '42501',
  'permission denied for table notification_preferences', 'student A: created_at is not hers to write');
select results_eq($$delete from public.notification_preferences where kind = 'renewal_reminder' returning kind::text$$,
  $$values ('renewal_reminder')$$, 'student A: removes her own switch (back on)');
select tests.clear_authentication();

-- === student B ===
select tests.authenticate_as('rls_b');
select results_eq($$select kind::text from public.notification_preferences$$, $$values ('renewal_reminder')$$,
  'student B: reads only his own');
select is_empty($$delete from public.notification_preferences where user_id = 'cccccccc-0000-0000-0000-00000000000a' returning id$$,
  'student B: cannot remove A''s');
select tests.clear_authentication();

-- === mentor M1 (student A's mentor) ===
select tests.authenticate_as('rls_m1');
select is_empty($$select * from public.notification_preferences$$, 'mentor M1: not even her student''s');
select tests.clear_authentication();

-- === admin ===
select tests.authenticate_as('rls_admin');
select results_eq(
  $$select user_id, kind::text from public.notification_preferences
     where user_id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b') order by 1$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid, 'session_reminder_1h'),
           ('cccccccc-0000-0000-0000-00000000000b', 'renewal_reminder')$$,
  'admin: reads everyone''s');
select is_empty($$update public.notification_preferences set enabled = true returning id$$,
  'admin: changes no one''s');
select throws_ok(
  $$insert into public.notification_preferences (user_id, kind, channel) values ('cccccccc-0000-0000-0000-00000000000a', 'session_reminder_24h', 'email')$$,
  '42501', 'new row violates row-level security policy for table "notification_preferences"',
  'admin: switches no one''s messages');
select tests.clear_authentication();

-- === service role ===
select tests.authenticate_as_service_role();
select is((select count(*)::integer from public.notification_preferences
            where user_id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b')),
  2, 'service role: reads all');
select tests.clear_authentication();

-- === superuser: what landed ===
select results_eq(
  $$select user_id, kind::text, channel::text, enabled from public.notification_preferences
     where user_id in ('cccccccc-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-00000000000b') order by 1$$,
  $$values ('cccccccc-0000-0000-0000-00000000000a'::uuid, 'session_reminder_1h', 'email', false),
           ('cccccccc-0000-0000-0000-00000000000b', 'renewal_reminder', 'discord', false)$$,
  'afterwards: A''s added switch removed again, B''s untouched by A and the admin');

select * from finish();
rollback;
