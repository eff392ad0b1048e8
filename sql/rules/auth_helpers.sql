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

-- The admins' arm of a policy on a table read by mentor_id: every mentor's id for an admin,
-- none for anyone else, used as `mentor_id = any ((select private.admin_mentor_ids())::uuid[])`.
-- Then every arm of the table's read policies is an index condition and the planner combines
-- them (BitmapOr). A bare `(select private.is_admin())` arm is none: with it, a student reading
-- their 50 latest sessions scanned the whole table (bench/api_reads.py, bench/README.md).
create or replace function private.admin_mentor_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select case when private.is_admin() then array(select m.id from public.mentors m)
              else '{}'::uuid[] end
$$;
comment on function private.admin_mentor_ids() is
  'Every mentor''s id when the caller is an admin, else none (the admins'' arm of index-friendly read policies).';
revoke execute on function private.admin_mentor_ids() from public, anon;
grant execute on function private.admin_mentor_ids() to authenticated, service_role;

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
