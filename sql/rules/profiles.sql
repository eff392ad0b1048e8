-- A profile for every new auth user. Part of the real schema (hosted too): the role is always
-- student; only an admin makes someone a mentor or admin.
create or replace function private.tg_users__create_profile()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  tz text := new.raw_user_meta_data ->> 'time_zone';
begin
  insert into public.profiles (id, email, display_name, time_zone)
  values (
    new.id,
    new.email,
    -- sign-up metadata is the user's own text: control characters become spaces (a name is shown to others)
    left(coalesce(regexp_replace(coalesce(nullif(new.raw_user_meta_data ->> 'display_name', ''),
                                          nullif(split_part(coalesce(new.email, ''), '@', 1), '')),
                                 '[[:cntrl:]\u0080-\u009f\u2028\u2029]', ' ', 'g'), ''), 100),
    case when private.is_valid_time_zone(tz) then tz else 'UTC' end
  )
  on conflict (id) do nothing;
  return new;
end
$$;
comment on function private.tg_users__create_profile() is
  'Creates public.profiles for a new auth.users row (role student; name and zone from sign-up metadata).';
revoke execute on function private.tg_users__create_profile() from public, anon, authenticated;

drop trigger if exists _100_create_profile on auth.users;
create trigger _100_create_profile
  after insert on auth.users
  for each row execute function private.tg_users__create_profile();

create or replace function private.tg_users__sync_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.profiles set email = new.email where id = new.id;
  return new;
end
$$;
comment on function private.tg_users__sync_email() is 'Keeps profiles.email equal to auth.users.email.';
revoke execute on function private.tg_users__sync_email() from public, anon, authenticated;

drop trigger if exists _200_sync_email on auth.users;
create trigger _200_sync_email
  after update of email on auth.users
  for each row when (old.email is distinct from new.email)
  execute function private.tg_users__sync_email();

-- A mentors row only for a profile whose role is mentor.
create or replace function private.tg_mentors__require_mentor_role()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select from public.profiles p where p.id = new.id and p.role = 'mentor') then
    perform private.refuse(422, format('profile %s is not a mentor', new.id), hint => 'Set profiles.role to mentor first (admins only).');
  end if;
  return new;
end
$$;
comment on function private.tg_mentors__require_mentor_role() is
  'Refuses a mentors row for a profile whose role is not mentor.';
revoke execute on function private.tg_mentors__require_mentor_role() from public, anon, authenticated;

drop trigger if exists _100_require_mentor_role on public.mentors;
create trigger _100_require_mentor_role
  before insert on public.mentors
  for each row execute function private.tg_mentors__require_mentor_role();

-- A mentor's role does not change while their mentors row exists: policies trust mentor_id, so a
-- demoted mentor would keep reading their students' rows.
create or replace function private.tg_profiles__keep_mentor_role()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role = 'mentor' and new.role <> 'mentor'
     and exists (select from public.mentors m where m.id = new.id) then
    perform private.refuse(409, format('profile %s is a mentor with a mentor profile; its role cannot change', new.id),
      hint => 'Deactivate the mentor (mentors.is_active = false) instead.');
  end if;
  return new;
end
$$;
comment on function private.tg_profiles__keep_mentor_role() is
  'Refuses changing the role of a profile that has a mentors row.';
revoke execute on function private.tg_profiles__keep_mentor_role() from public, anon, authenticated;

drop trigger if exists _100_keep_mentor_role on public.profiles;
create trigger _100_keep_mentor_role
  before update of role on public.profiles
  for each row execute function private.tg_profiles__keep_mentor_role();
