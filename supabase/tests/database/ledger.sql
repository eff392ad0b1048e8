-- Credits move only through the append-only ledger (sql/rules/ledger.sql): a ledger entry moves
-- the pack's remaining_sessions, nothing else may, and neither the ledger nor the audit log can
-- be changed or emptied, not even by the superuser.
--
-- Ids used below:
--   admin     aaaaaaaa-0000-0000-0000-000000000001
--   mentor M1 bbbbbbbb-0000-0000-0000-000000000001
--   student A cccccccc-0000-0000-0000-00000000000a   student B cccccccc-0000-0000-0000-00000000000b
--   product   dddddddd-0000-0000-0000-000000000011   seat A eeeeeeee-0000-0000-0000-0000000000a1
--   pack A    99999999-0000-0000-0000-0000000000a1   (4 sessions)
--   session   55555555-0000-0000-0000-000000000001
begin;
set search_path = public, extensions;
select plan(42);

-- === setup (superuser): admin, mentor M1, student A with a seat, a 4-session pack, a session ===
select tests.create_user('ledger_admin', 'admin', id => 'aaaaaaaa-0000-0000-0000-000000000001');
select tests.create_user('ledger_m1', 'mentor', id => 'bbbbbbbb-0000-0000-0000-000000000001');
select tests.create_user('ledger_a', id => 'cccccccc-0000-0000-0000-00000000000a');
select tests.create_user('ledger_b', id => 'cccccccc-0000-0000-0000-00000000000b');
insert into public.mentors (id, slug, public_name, time_zone)
  values ('bbbbbbbb-0000-0000-0000-000000000001', 'tap-ledger-m1', 'Mentor One', 'Europe/Berlin');
insert into public.mentorship_products (id, mentor_id, title, price_cents)
  values ('dddddddd-0000-0000-0000-000000000011', 'bbbbbbbb-0000-0000-0000-000000000001', 'Four sessions', 10000);
insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at)
  values ('eeeeeeee-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
          'cccccccc-0000-0000-0000-00000000000a', 'active', '2030-01-01 00:00+00');
insert into public.session_packs (id, student_id, mentor_id, product_id, seat_reservation_id,
    sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
    cancel_notice_hours, purchased_at, expires_at)
  values ('99999999-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-00000000000a',
          'bbbbbbbb-0000-0000-0000-000000000001', 'dddddddd-0000-0000-0000-000000000011',
          'eeeeeeee-0000-0000-0000-0000000000a1', 4, 4, 10000, 'usd', 72, 24,
          '2030-01-01 00:00+00', '2030-04-01 00:00+00');
insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)
  values ('55555555-0000-0000-0000-000000000001', '99999999-0000-0000-0000-0000000000a1',
          'bbbbbbbb-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-00000000000a',
          '2030-01-07 10:00+00', '2030-01-07 11:00+00', '2030-01-07 11:15+00');

-- === a ledger entry moves remaining_sessions by its delta ===
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  4, 'a new pack starts with remaining = sessions_total');
select lives_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '55555555-0000-0000-0000-000000000001', 'session_booked', -1)$$,
  'a session_booked entry is recorded');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  3, 'a -1 entry takes remaining from 4 to 3');
select lives_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 2, 'goodwill: call dropped twice',
      'aaaaaaaa-0000-0000-0000-000000000001')$$,
  'an admin adjustment with a reason and an actor is recorded');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  5, 'a +2 entry takes remaining from 3 to 5');

-- === several entries in one statement (e.g. a refund cancelling many sessions) ===
select lives_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 3, 'batch one', 'aaaaaaaa-0000-0000-0000-000000000001'),
      ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', -3, 'batch two', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  'two entries for one pack in one statement are recorded');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  5, 'a statement moves remaining by the sum of its entries (+3 - 3)');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', -3, 'batch three', 'aaaaaaaa-0000-0000-0000-000000000001'),
      ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', -3, 'batch four', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '23514', 'new row for relation "session_packs" violates check constraint "session_packs_remaining_sessions_check"',
  'entries whose sum would take remaining below zero are refused together');
select is((select count(*)::integer from public.session_credit_ledger where pack_id = '99999999-0000-0000-0000-0000000000a1'),
  4, 'neither entry of the refused statement was recorded');

-- === never below zero ===
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', -6, 'too many',
      'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '23514', 'new row for relation "session_packs" violates check constraint "session_packs_remaining_sessions_check"',
  'an entry that would take remaining below zero is refused');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  5, 'the refused entry left remaining unchanged');
select is((select count(*)::integer from public.session_credit_ledger where pack_id = '99999999-0000-0000-0000-0000000000a1'),
  4, 'the refused entry was not recorded');
select lives_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'pack_expired', -5)$$,
  'an entry that takes remaining exactly to zero is recorded');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  0, 'remaining is zero');
select is(
  (select p.remaining_sessions - p.sessions_total
     from public.session_packs p where p.id = '99999999-0000-0000-0000-0000000000a1'),
  (select sum(l.delta)::integer from public.session_credit_ledger l
    where l.pack_id = '99999999-0000-0000-0000-0000000000a1'),
  'remaining_sessions = sessions_total + sum(delta)');

-- === what an entry must carry ===
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '23514', 'new row for relation "session_credit_ledger" violates check constraint "session_credit_ledger_check"',
  'an admin adjustment without a reason is refused');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, '  ', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  '23514', 'new row for relation "session_credit_ledger" violates check constraint "session_credit_ledger_check"',
  'an admin adjustment with a blank reason is refused');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, 'no actor')$$,
  '23514', 'new row for relation "session_credit_ledger" violates check constraint "session_credit_ledger_check"',
  'an admin adjustment without an actor is refused');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'session_canceled', 1)$$,
  '23514', 'new row for relation "session_credit_ledger" violates check constraint "session_credit_ledger_check1"',
  'a session entry without its session is refused');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', '55555555-0000-0000-0000-000000000001', 'session_canceled', 0)$$,
  '23514', 'new row for relation "session_credit_ledger" violates check constraint "session_credit_ledger_delta_check"',
  'a zero entry is refused');
select throws_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000b', '55555555-0000-0000-0000-000000000001', 'session_canceled', 1)$$,
  '23503', 'insert or update on table "session_credit_ledger" violates foreign key constraint "session_credit_ledger_pack_id_mentor_id_student_id_fkey"',
  'an entry naming another student than the pack''s is refused');

-- === session_credit_ledger is append-only, for the superuser too ===
select is(tests.refusal($$update public.session_credit_ledger set delta = 10 where pack_id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: session_credit_ledger is append-only: update is not allowed',
  'superuser: updating a ledger entry is refused');
select is(tests.refusal($$delete from public.session_credit_ledger where pack_id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: session_credit_ledger is append-only: delete is not allowed',
  'superuser: deleting a ledger entry is refused');
select is(tests.refusal($$truncate public.session_credit_ledger$$), 'PT403: session_credit_ledger is append-only: truncate is not allowed',
  'superuser: truncating the ledger is refused');
select is(tests.refusal($$truncate public.session_packs cascade$$), 'PT403: session_credit_ledger is append-only: truncate is not allowed',
  'superuser: truncating the packs with cascade (which would empty the ledger) is refused');
select results_eq(
  $$select kind::text, delta from public.session_credit_ledger
     where pack_id = '99999999-0000-0000-0000-0000000000a1' order by id$$,
  $$values ('session_booked', -1), ('admin_adjustment', 2), ('admin_adjustment', 3), ('admin_adjustment', -3),
            ('pack_expired', -5)$$,
  'the ledger still holds exactly its five entries, unchanged');

-- === audit_log is append-only, for the superuser too ===
select lives_ok(
  $$insert into public.audit_log (actor_id, action, table_name, row_id, reason)
    values ('aaaaaaaa-0000-0000-0000-000000000001', 'pack.adjusted', 'session_packs',
      '99999999-0000-0000-0000-0000000000a1', 'goodwill: call dropped twice')$$,
  'an audit entry is recorded');
select is(tests.refusal($$update public.audit_log set reason = 'rewritten' where row_id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: audit_log is append-only: update is not allowed',
  'superuser: updating an audit entry is refused');
select is(tests.refusal($$delete from public.audit_log where row_id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: audit_log is append-only: delete is not allowed',
  'superuser: deleting an audit entry is refused');
select is(tests.refusal($$truncate public.audit_log$$), 'PT403: audit_log is append-only: truncate is not allowed',
  'superuser: truncating the audit log is refused');
select results_eq(
  $$select action, reason from public.audit_log
     where row_id = '99999999-0000-0000-0000-0000000000a1' and action = 'pack.adjusted'$$,
  $$values ('pack.adjusted', 'goodwill: call dropped twice')$$,
  'the audit entry is still there, unchanged');

-- === session_packs.remaining_sessions moves only through the ledger ===
select is(tests.refusal($$update public.session_packs set remaining_sessions = 10 where id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: remaining_sessions changes only through session_credit_ledger',
  'superuser: setting remaining_sessions directly is refused');
select is(tests.refusal($$update public.session_packs set remaining_sessions = remaining_sessions + 1, sessions_total = sessions_total + 1
     where id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: sessions_total is fixed at purchase',
  'superuser: moving remaining_sessions together with sessions_total is refused too');
select set_config('mentorships.ledger_apply', 'on', true);
select is(tests.refusal($$update public.session_packs set remaining_sessions = 50 where id = '99999999-0000-0000-0000-0000000000a1'$$), 'PT403: remaining_sessions changes only through session_credit_ledger',
  'superuser: no setting switches the guard off (it checks the ledger itself)');
select lives_ok(
  $$update public.session_packs set cancel_notice_hours = 48 where id = '99999999-0000-0000-0000-0000000000a1'$$,
  'updating another column of a pack is allowed');
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  0, 'remaining_sessions is still what the ledger says');
select is(tests.refusal($$insert into public.session_packs (student_id, mentor_id, product_id, seat_reservation_id,
      sessions_total, remaining_sessions, price_cents, currency, grace_period_hours,
      cancel_notice_hours, purchased_at, expires_at)
    values ('cccccccc-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000001',
      'dddddddd-0000-0000-0000-000000000011', 'eeeeeeee-0000-0000-0000-0000000000a1', 4, 3, 10000, 'usd',
      72, 24, '2030-04-01 00:00+00', '2030-07-01 00:00+00')$$), 'PT422: a new pack starts with remaining_sessions = sessions_total (4)',
  'a new pack whose remaining differs from its sessions_total is refused');

-- === service_role: may append, never change ===
select tests.authenticate_as_service_role();
select lives_ok(
  $$insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)
    values ('99999999-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000001',
      'cccccccc-0000-0000-0000-00000000000a', 'admin_adjustment', 1, 'worker test', 'aaaaaaaa-0000-0000-0000-000000000001')$$,
  'service_role: appending a ledger entry works');
select throws_ok(
  $$update public.session_credit_ledger set delta = 10 where pack_id = '99999999-0000-0000-0000-0000000000a1'$$,
  '42501', 'permission denied for table session_credit_ledger',
  'service_role: updating the ledger is refused');
select throws_ok(
  $$delete from public.session_credit_ledger$$,
  '42501', 'permission denied for table session_credit_ledger',
  'service_role: deleting from the ledger is refused');
select throws_ok(
  $$update public.audit_log set reason = 'rewritten'$$,
  '42501', 'permission denied for table audit_log',
  'service_role: updating the audit log is refused');
select tests.clear_authentication();
select is((select remaining_sessions from public.session_packs where id = '99999999-0000-0000-0000-0000000000a1'),
  1, 'the service role''s entry moved remaining from 0 to 1');

select * from finish();
rollback;
