-- The world the constraints_*.sql pgTAP files share, built by the superuser inside the calling
-- file's transaction (so it rolls back with it): mentors M1 and M2, students A and B, a product
-- per mentor, active seats and four-session packs for A with M1, B with M1 and A with M2. The
-- input-check triggers (_050_check_input, sql/rules/input_checks.sql) answer a client first; they
-- are disabled here so that the constraints behind them are tested on their own. The ids are
-- listed at the top of every constraints_*.sql file.
-- Helper files load in name order and this one comes first, so it makes the schema too.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

create or replace function tests.create_constraints_world()
returns void
language plpgsql
as $world$
begin
alter table public.profiles disable trigger _050_check_input;
alter table public.mentors disable trigger _050_check_input;
alter table public.mentorship_products disable trigger _050_check_input;
alter table public.promotion_codes disable trigger _050_check_input;
alter table public.platform_settings disable trigger _050_check_input;

perform tests.create_user('constraints_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001', display_name => 'Mentor One');
perform tests.create_user('constraints_m2', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000002', display_name => 'Mentor Two');
perform tests.create_user('constraints_a', id => 'cccccccc-0000-0000-0000-00000000000a', display_name => 'Student A');
perform tests.create_user('constraints_b', id => 'cccccccc-0000-0000-0000-00000000000b', display_name => 'Student B');
insert into public.mentors (id, slug, public_name, time_zone, buffer_minutes) values
  ('bbbbbbbb-0000-0000-0000-000000000001', 'tap-constraints-m1', 'Mentor One', 'Europe/Berlin', 15),
  ('bbbbbbbb-0000-0000-0000-000000000002', 'tap-constraints-m2', 'Mentor Two', 'America/New_York', 15);
insert into public.mentorship_products (id, mentor_id, title, price_cents) values
  ('dddddddd-0000-0000-0000-000000000011', 'bbbbbbbb-0000-0000-0000-000000000001', 'Four sessions', 10000),
  ('dddddddd-0000-0000-0000-000000000021', 'bbbbbbbb-0000-0000-0000-000000000002', 'Four sessions', 12000);
insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at) values
  ('eeeeeeee-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00'),
  ('eeeeeeee-0000-0000-0000-0000000000b1', 'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000b', 'active', '2030-01-01 00:00+00'),
  ('eeeeeeee-0000-0000-0000-0000000000a2', 'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00');
insert into public.session_packs (id, student_id, mentor_id, product_id, seat_reservation_id,
    sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
    cancel_notice_hours, purchased_at, expires_at) values
  ('99999999-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
   'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 4, 4, 10000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00'),
  ('99999999-0000-0000-0000-0000000000b1', 'cccccccc-0000-0000-0000-00000000000b', 'bbbbbbbb-0000-0000-0000-000000000001',
   'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000b1', 4, 4, 10000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00'),
  ('99999999-0000-0000-0000-0000000000a2', 'cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000002',
   'dddddddd-0000-0000-0000-000000000021', 'eeeeeeee-0000-0000-0000-0000000000a2', 4, 4, 12000, 'usd', 72, 24,
   '2030-01-01 00:00+00', '2030-04-01 00:00+00');
end
$world$;
revoke execute on function tests.create_constraints_world() from public;
