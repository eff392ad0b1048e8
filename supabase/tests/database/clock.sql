-- private.clock_now() is the one clock rules read (sql/rules/clock.sql): now(), unless
-- private.clock.frozen_at or the transaction-local mentorships.now (tests.freeze_clock) freeze
-- it. Workers (the service role) may read it; the API roles may not.
begin;
set search_path = public, extensions;
select plan(9);

-- === private.clock_now() ===
update private.clock set frozen_at = null;
select set_config('mentorships.now', '', true);
select is(private.clock_now(), now(), 'clock not frozen: clock_now() is now()');

update private.clock set frozen_at = '2030-03-10 09:00+00';
select is(private.clock_now(), '2030-03-10 09:00+00'::timestamptz,
  'private.clock.frozen_at set: clock_now() is the frozen instant');

select set_config('mentorships.now', '2031-06-01 12:00+00', true);
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz,
  'the transaction-local mentorships.now wins over private.clock');

update private.clock set frozen_at = null;
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz,
  'mentorships.now wins over now() too');

select set_config('mentorships.now', '', true);
select is(private.clock_now(), now(), 'with both cleared, clock_now() is now() again');

select tests.freeze_clock('2031-06-01 12:00+00');
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz, 'tests.freeze_clock() sets the transaction-local mentorships.now');
select tests.authenticate_as_service_role();
select is(private.clock_now(), '2031-06-01 12:00+00'::timestamptz, 'the service role (workers) may read the clock');
select tests.clear_authentication();
set local role authenticated;
select throws_ok($$select private.clock_now()$$, '42501', 'permission denied for function clock_now',
  'authenticated users never read the clock directly (the RPCs do, as definers)');
reset role;
set local role anon;
select throws_ok($$select private.clock_now()$$, '42501', 'permission denied for function clock_now',
  'anon may not call private.clock_now()');
reset role;

select * from finish();
rollback;
