-- updated_at on every table that has one.
create or replace function private.tg__set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end
$$;
comment on function private.tg__set_updated_at() is 'Sets updated_at to the transaction time.';
revoke execute on function private.tg__set_updated_at() from public, anon, authenticated;

do $$
declare
  t regclass;
begin
  for t in
    select c.oid::regclass
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
    where n.nspname in ('public', 'private') and c.relkind = 'r'
  loop
    execute format('drop trigger if exists _900_set_updated_at on %s', t);
    execute format(
      'create trigger _900_set_updated_at before update on %s '
      'for each row execute function private.tg__set_updated_at()', t);
  end loop;
end
$$;
