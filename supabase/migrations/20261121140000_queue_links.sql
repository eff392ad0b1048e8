-- A queue row's link to the session it is about is a plain column, not a foreign key.
--
-- A booking writes six outbox rows and a calendar job. Their foreign keys to the session (and the
-- job's to the mentor) were eight of the booking's eighteen per-row key checks, each a locking
-- lookup: about 7 % of the booking's database time, and every concurrent booking of one mentor
-- share-locked that mentor's row. What they guarded cannot happen:
--   - only the rules' security-definer functions write these rows, with the id of a session they
--     have just written or hold locked;
--   - a session is never deleted while it has history: its booking's entry in the append-only
--     credit ledger references it (on delete restrict), so the cascades these keys declared
--     could not fire;
--   - a calendar job's mentor is its session's mentor, and a mentor with sessions cannot be
--     deleted (their packs restrict it).
-- The recipient's key stays (deleting a person deletes their messages), and so do the pack key of
-- pack messages (not on the booking path) and every key of the ledger, sessions and packs.
alter table public.notifications drop constraint notifications_session_id_fkey;
comment on column public.notifications.session_id is
  'The session it is about, if any (not a foreign key: only the rules write it, and a booked session is never deleted).';

alter table private.calendar_jobs
  drop constraint calendar_jobs_session_id_fkey,
  drop constraint calendar_jobs_mentor_id_fkey;
comment on column private.calendar_jobs.session_id is
  'The session whose event to create, move or delete (not a foreign key: only the rules write it, and a booked session is never deleted).';
comment on column private.calendar_jobs.mentor_id is 'Whose calendar: the session''s mentor.';
