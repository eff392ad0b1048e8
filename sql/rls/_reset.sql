-- Applied first: drops every policy on the public tables, so that the files beside this one are
-- the whole desired state (a policy removed from a file is removed from the database).
do $$
declare
  p record;
begin
  for p in select schemaname, tablename, policyname from pg_catalog.pg_policies where schemaname = 'public' loop
    execute format('drop policy %I on %I.%I', p.policyname, p.schemaname, p.tablename);
  end loop;
end
$$;
