-- Rows take the business clock (sql/rules/timestamps.sql): the column defaults call
-- private.stamp_now() and the updated_at trigger reads private.clock_now(), for the API roles'
-- direct writes too. A mentor (mentor_t) adds and renames a product at a frozen clock; the
-- defaults need EXECUTE on the stamp, not USAGE on schema private; unfrozen, rows take now().
begin;
set search_path = public, extensions;
select plan(13);

-- === the schema: no row is stamped by now() any more ===
select is_empty(
  $$select format('%s.%s', a.attrelid::regclass, a.attname)
      from pg_catalog.pg_attrdef d
      join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
      join pg_catalog.pg_class c on c.oid = d.adrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'private')
       and pg_catalog.pg_get_expr(d.adbin, d.adrelid) ~* '\m(now|transaction_timestamp|statement_timestamp|clock_timestamp)\(|current_timestamp|localtimestamp'$$,
  'no column default in public or private reads the wall clock (each takes private.stamp_now())');
select is(
  (select count(*)::integer
     from pg_catalog.pg_attribute a
     join pg_catalog.pg_class c on c.oid = a.attrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname in ('public', 'private') and c.relkind = 'r' and not a.attisdropped
      and a.attname in ('created_at', 'updated_at')
      and pg_catalog.pg_get_expr(d.adbin, d.adrelid) is distinct from 'private.stamp_now()'),
  0, 'every created_at and updated_at defaults to private.stamp_now()');

-- === a mentor writing their own product through the API role, at a frozen clock ===
select tests.create_user('mentor_t', 'mentor');
insert into public.mentors (id, slug, public_name, time_zone)
values (tests.get_user('mentor_t'), 'mentor-t', 'Mentor T', 'UTC');
select tests.freeze_clock('2026-03-10 09:00+00');
select tests.authenticate_as('mentor_t');
select throws_ok($$select private.clock_now()$$, '42501', 'permission denied for function clock_now',
  'mentor_t: may not read the clock itself');
insert into public.mentorship_products (mentor_id, title, sessions_count, validity_days, price_cents, currency)
values (tests.get_user('mentor_t'), 'Stamped pack', 4, 90, 12000, 'usd');
select results_eq(
  $$select created_at, updated_at from public.mentorship_products where title = 'Stamped pack'$$,
  $$values ('2026-03-10 09:00+00'::timestamptz, '2026-03-10 09:00+00'::timestamptz)$$,
  'mentor_t: a product they add is created and updated at the frozen instant');
select tests.freeze_clock('2026-03-10 11:30+00');
update public.mentorship_products set title = 'Stamped pack 2' where title = 'Stamped pack';
select results_eq(
  $$select created_at, updated_at from public.mentorship_products where title = 'Stamped pack 2'$$,
  $$values ('2026-03-10 09:00+00'::timestamptz, '2026-03-10 11:30+00'::timestamptz)$$,
  'mentor_t: renaming it moves updated_at to the frozen instant, not created_at');
select tests.clear_authentication();

-- === the service role (workers) and anon ===
select tests.authenticate_as_service_role();
select is(private.stamp_now(), '2026-03-10 11:30+00'::timestamptz, 'the service role may call the stamp');
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok($$select private.stamp_now()$$, '42501', 'permission denied for function stamp_now',
  'anon may not call the stamp (anon writes no row)');
select tests.clear_authentication();

-- === a default needs EXECUTE on its function, not USAGE on its schema ===
create table public.stamp_probe (id integer primary key, at timestamptz not null default private.stamp_now());
grant select, insert on table public.stamp_probe to authenticated;
revoke usage on schema private from authenticated;
set local role authenticated;
select ok(not pg_catalog.has_schema_privilege('private', 'usage'), 'probe: authenticated without usage on private');
select lives_ok($$insert into public.stamp_probe (id) values (1)$$,
  'probe: the default still runs (it names the function by OID)');
select is((select at from public.stamp_probe where id = 1), '2026-03-10 11:30+00'::timestamptz,
  'probe: stamped with the frozen instant');
reset role;
revoke execute on function private.stamp_now() from authenticated;
set local role authenticated;
select throws_ok($$insert into public.stamp_probe (id) values (2)$$, '42501',
  'permission denied for function stamp_now', 'probe: without EXECUTE the insert is refused');
reset role;

-- === explicit values win; unfrozen, rows take the transaction time ===
insert into public.mentorship_products (mentor_id, title, sessions_count, validity_days, price_cents, currency, created_at)
values (tests.get_user('mentor_t'), 'Backdated pack', 4, 90, 12000, 'usd', '2020-01-01 00:00+00');
select is((select created_at from public.mentorship_products where title = 'Backdated pack'),
  '2020-01-01 00:00+00'::timestamptz, 'a created_at given explicitly (factories backdate) is kept');
update private.clock set frozen_at = null;
select set_config('mentorships.now', '', true);
insert into public.mentorship_products (mentor_id, title, sessions_count, validity_days, price_cents, currency)
values (tests.get_user('mentor_t'), 'Unfrozen pack', 4, 90, 12000, 'usd');
select results_eq(
  $$select created_at, updated_at from public.mentorship_products where title = 'Unfrozen pack'$$,
  $$select now(), now()$$,
  'clock not frozen: a new row is stamped with the transaction time, as before');

select * from finish();
rollback;
