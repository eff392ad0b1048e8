-- A mentor's sessions, newest first, page by page: the read a mentor's dashboard and the admins'
-- "expand a mentor" make. Reading public.sessions through its policies gives the same rows, but
-- the policies' arms are OR'ed (the student's, the mentor's, the admins'), so the planner fetches
-- every session of the mentor and sorts them for the newest 50; here the one arm that applies is
-- the query, and the rows come in index order (sessions_mentor_id_starts_at_idx, backwards). At
-- 1M sessions the busiest mentor's 50 newest: bench/api_reads.py, bench/README.md.
-- Who may read: the mentor, and admins (any mentor); the same rows the policies give them.
create or replace function private.mentor_sessions(p_mentor_id uuid, p_before timestamptz,
                                                   p_before_id uuid, p_max_rows integer)
returns setof public.sessions
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller uuid := auth.uid();
  target uuid := coalesce(p_mentor_id, caller);
begin
  if target is distinct from caller and not private.is_admin() then
    perform private.refuse(403, 'only the mentor and admins may list a mentor''s sessions',
      'Leave mentor_id out to list your own sessions.', 'mentor_id');
  end if;
  if not exists (select from public.mentors m where m.id = target) then
    if p_mentor_id is null then
      perform private.refuse(422, 'mentor_id is required: you are not a mentor',
        'Send mentor_id as the UUID of the mentor whose sessions you may read.', 'mentor_id');
    end if;
    perform private.refuse(404, 'no mentor with that mentor_id',
      'Send mentor_id as the UUID of a mentor.', 'mentor_id');
  end if;
  if p_before_id is not null and p_before is null then
    perform private.refuse(422, 'before_id needs before',
      'Send before (the starts_at of the last row you have) with before_id (its id).', 'before_id');
  end if;
  -- Three plain queries rather than one with "p_before is null or ...": each keeps its own plan.
  if p_before is null then
    return query select s.* from public.sessions s
      where s.mentor_id = target
      order by s.starts_at desc, s.id desc limit p_max_rows;
  elsif p_before_id is null then
    return query select s.* from public.sessions s
      where s.mentor_id = target and s.starts_at < p_before
      order by s.starts_at desc, s.id desc limit p_max_rows;
  else
    return query select s.* from public.sessions s
      where s.mentor_id = target and s.starts_at <= p_before
        and (s.starts_at < p_before or s.id < p_before_id)
      order by s.starts_at desc, s.id desc limit p_max_rows;
  end if;
end
$$;
comment on function private.mentor_sessions(uuid, timestamptz, uuid, integer) is
  'A mentor''s sessions newest first (starts_at, then id), before a cursor; the mentor or an admin.';
revoke execute on function private.mentor_sessions(uuid, timestamptz, uuid, integer) from public, anon;
grant execute on function private.mentor_sessions(uuid, timestamptz, uuid, integer) to authenticated;

create or replace function public.mentor_sessions(mentor_id text default null, before text default null,
                                                  before_id text default null, max_rows text default null)
returns setof public.sessions
language plpgsql
stable
set search_path = ''
as $$
begin
  return query select * from private.mentor_sessions(
    private.uuid_arg(mentor_id, 'mentor_id', false),
    private.timestamptz_arg(before, 'before', false),
    private.uuid_arg(before_id, 'before_id', false),
    case when max_rows is null then 50 else private.integer_arg(max_rows, 'max_rows', 1, 500) end);
end
$$;
comment on function public.mentor_sessions(text, text, text, text) is
$$A mentor's sessions, newest first (by starts_at, then id), every status: your own, or any mentor's for an admin. The next page: before = the last row's starts_at and before_id = its id.
Arguments: mentor_id (optional UUID; default: you), before (optional ISO 8601 instant with offset: only sessions starting before it), before_id (optional UUID, with before: also the sessions starting at before whose id sorts below it), max_rows (optional whole number 1 to 500; default 50).
Errors: 403 PT403 another mentor's sessions and you are not an admin; 404 PT404 no mentor with that id; 422 PT422 a malformed argument, you are not a mentor and sent no mentor_id, before_id without before (details names the field).$$;
revoke execute on function public.mentor_sessions(text, text, text, text) from public, anon;
grant execute on function public.mentor_sessions(text, text, text, text) to authenticated;
