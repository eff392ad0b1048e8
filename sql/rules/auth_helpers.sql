-- Who the caller is, for policies and RPCs. Roles come from profiles.role, never from the
-- JWT's user-editable metadata. Security definer so that policies can read profiles without
-- recursing into profiles' own policies.
create or replace function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select from public.profiles p
    where p.id = (select auth.uid()) and p.role = 'admin'
  )
$$;
comment on function private.is_admin() is 'True when the caller''s profile has role admin.';
revoke execute on function private.is_admin() from public, anon;
grant execute on function private.is_admin() to authenticated, service_role;

create or replace function private.my_student_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select distinct s.student_id
  from public.seat_reservations s
  where s.mentor_id = (select auth.uid())
$$;
comment on function private.my_student_ids() is
  'Students who hold or held a seat with the calling mentor (for reading their profiles).';
revoke execute on function private.my_student_ids() from public, anon;
grant execute on function private.my_student_ids() to authenticated, service_role;
