-- private.uuid_v7() (migration 20261121140200): time-ordered ids for new sessions.
begin;
set search_path = public, extensions;
select plan(7);

-- Each id is bracketed by the clock read just before and just after it (Postgres evaluates a
-- select list in order), so a busy machine cannot push it out of its window.
create temporary table tap_ids on commit drop as
select n, clock_timestamp() as made_after, private.uuid_v7() as id, clock_timestamp() as made_before
  from generate_series(1, 2000) n;

select is((select count(*)::integer from tap_ids where substr(id::text, 15, 1) = '7'), 2000,
  'version 7 (the 13th hex digit)');
select is((select count(*)::integer from tap_ids where substr(id::text, 20, 1) in ('8', '9', 'a', 'b')), 2000,
  'RFC 9562 variant (10xx)');
select is((select count(distinct id)::integer from tap_ids), 2000, 'all distinct');
select ok(
  (select bool_and(('x' || lpad(replace(substr(id::text, 1, 13), '-', ''), 16, '0'))::bit(64)::bigint
                   between floor(extract(epoch from made_after) * 1000)::bigint
                       and floor(extract(epoch from made_before) * 1000)::bigint)
     from tap_ids),
  'the first 48 bits are the Unix milliseconds when it was made');
select ok(
  (select bool_and(left(a.id::text, 13) <= left(b.id::text, 13))
     from tap_ids a join tap_ids b on b.n = a.n + 1),
  'ids made one after another carry non-decreasing milliseconds');
select ok(
  (select bool_and(a.id < b.id) and count(*) > 0 from tap_ids a join tap_ids b on b.n = a.n + 1
    where left(b.id::text, 13) > left(a.id::text, 13)),
  'and an id of a later millisecond sorts after the earlier ones (uuid order is byte order)');
select is(
  (select column_default from information_schema.columns
    where table_schema = 'public' and table_name = 'sessions' and column_name = 'id'),
  'private.uuid_v7()', 'new sessions get one');

select * from finish();
rollback;
