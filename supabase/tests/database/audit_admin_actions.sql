-- Admin actions land in the audit log (sql/rules/audit.sql) with who made them and the values
-- before and after: a role changed, a mentor delisted, a price raised and a product retired, a
-- promotion code created and ended, a platform setting changed (its row has no uuid: row_id is
-- null). Changes of columns nobody audits write nothing.
begin;
set search_path = public, extensions;
select plan(10);

select tests.create_user('audit_admin', 'admin');
select tests.create_user('audit_mentor', 'student');
select tests.freeze_clock('2026-05-04 10:00+00');
select is((select count(*)::integer from public.audit_log where table_name = 'profiles'
             and row_id in (tests.get_user('audit_admin'), tests.get_user('audit_mentor'))
             and action = 'profiles.created'),
          0, 'a sign-up is no admin action: no audit row');

-- the back office (service role) makes a student a mentor and lists them
select tests.authenticate_as_service_role();
update public.profiles set role = 'mentor' where id = tests.get_user('audit_mentor');
insert into public.mentors (id, slug, public_name, time_zone)
values (tests.get_user('audit_mentor'), 'audit-mentor', 'Audit Mentor', 'UTC');
select results_eq(
  $$select action, old_values, new_values, actor_id is null, created_at from public.audit_log
     where row_id = tests.get_user('audit_mentor') and table_name = 'profiles' and action = 'profiles.changed'$$,
  $$values ('profiles.changed', '{"role": "student"}'::jsonb, '{"role": "mentor"}'::jsonb, true,
            '2026-05-04 10:00+00'::timestamptz)$$,
  'a role change: old and new role, by the back office (no user), at the clock');

-- the mentor adds a product and raises its price; renaming it is not audited
select tests.authenticate_as('audit_mentor');
insert into public.mentorship_products (mentor_id, title, price_cents, currency)
values (tests.get_user('audit_mentor'), 'Audited pack', 20000, 'usd');
update public.mentorship_products set price_cents = 23000 where title = 'Audited pack';
update public.mentorship_products set title = 'Audited pack, renamed' where title = 'Audited pack';
select tests.clear_authentication();
select results_eq(
  $$select action, old_values, new_values, actor_id = tests.get_user('audit_mentor') from public.audit_log
     where table_name = 'mentorship_products'
       and row_id = (select id from public.mentorship_products where mentor_id = tests.get_user('audit_mentor'))
     order by id$$,
  $$values ('mentorship_products.created', null::jsonb, '{"is_active": true, "price_cents": 20000}'::jsonb, true),
           ('mentorship_products.changed', '{"price_cents": 20000}'::jsonb, '{"price_cents": 23000}'::jsonb, true)$$,
  'a product: created, then its price raised, by its mentor; the rename writes nothing');

-- an admin retires it, delists the mentor (back office), creates and ends a promotion code
select tests.authenticate_as('audit_admin');
update public.mentorship_products set is_active = false where mentor_id = tests.get_user('audit_mentor');
insert into public.promotion_codes (code, percent_off) values ('AUDIT-10', 10);
update public.promotion_codes set is_active = false where code = 'AUDIT-10';
select tests.clear_authentication();
select tests.authenticate_as_service_role();
update public.mentors set is_active = false where id = tests.get_user('audit_mentor');
select tests.clear_authentication();
select is(
  (select new_values from public.audit_log where table_name = 'mentorship_products'
     and actor_id = tests.get_user('audit_admin')),
  '{"is_active": false}'::jsonb, 'an admin retiring a product: by that admin');
select is(
  (select array_agg(action order by id) from public.audit_log where table_name = 'promotion_codes'
     and actor_id = tests.get_user('audit_admin')),
  array['promotion_codes.created', 'promotion_codes.changed'], 'a promotion code created and ended, by the admin');
select results_eq(
  $$select old_values, new_values from public.audit_log where table_name = 'promotion_codes'
     and action = 'promotion_codes.changed' and actor_id = tests.get_user('audit_admin')$$,
  $$values ('{"is_active": true}'::jsonb, '{"is_active": false}'::jsonb)$$,
  'ending a code records is_active before and after');
select is(
  (select old_values from public.audit_log where table_name = 'mentors' and action = 'mentors.changed'
     and row_id = tests.get_user('audit_mentor')),
  '{"is_active": true}'::jsonb, 'a mentor delisted: is_active was true');

-- an admin changes a platform setting: the singleton row has no uuid, so row_id is null
select tests.authenticate_as_service_role();
update public.platform_settings set grace_period_hours = grace_period_hours + 1;
update public.platform_settings set grace_period_hours = grace_period_hours - 1;
select tests.clear_authentication();
select is(
  (select count(*)::integer from public.audit_log where table_name = 'platform_settings'
     and action = 'platform_settings.changed' and row_id is null
     and created_at = '2026-05-04 10:00+00'),  -- this file's (other tests change settings too)
  2, 'platform settings: each change audited, row_id null');
select is(
  (select new_values - 'grace_period_hours' from public.audit_log where table_name = 'platform_settings'
     and created_at = '2026-05-04 10:00+00' limit 1),
  '{}'::jsonb, 'platform settings: only the changed setting is recorded');

-- a student's own profile changes (name, zone) are theirs, not admin actions: not audited
select tests.authenticate_as('audit_mentor');
update public.profiles set display_name = 'Renamed' where id = tests.get_user('audit_mentor');
select tests.clear_authentication();
select is(
  (select count(*)::integer from public.audit_log where row_id = tests.get_user('audit_mentor')
     and table_name = 'profiles' and action = 'profiles.changed'),
  1, 'a profile rename writes nothing (only the role change is there)');

select * from finish();
rollback;
