-- The outbox and the calendar jobs carry no foreign keys: a row names its recipient, session and
-- mentor in plain columns.
--
-- A booking writes six outbox rows and a calendar job. Their foreign keys (recipient, session; the
-- job's session and mentor) were fourteen of the booking's eighteen per-row key checks. Each is a
-- lookup that share-locks the row it finds, so every booking wrote locks on both people's
-- profiles, and concurrent bookings of one mentor piled their locks onto that mentor's rows (a
-- multixact per booking). Together about a fifth of the booking's database time. What the keys
-- guarded is held otherwise:
--   - only the rules' security-definer functions (and the service role) write these rows, with ids
--     of rows they have just written or read; private.notify_many skips a recipient who is not a
--     person;
--   - a person's messages are deleted with the person (trigger _200_delete_messages on profiles,
--     sql/rules/notify.sql), as the recipient key's cascade did;
--   - a session is never deleted once booked: its booking's entry in the append-only credit ledger
--     references it (on delete restrict), so the session keys' cascades could not fire; and a
--     calendar job's mentor is its session's mentor.
-- The pack key of pack messages stays (it is not on the booking path), and so does every key of
-- the ledger, the sessions and the packs.
alter table public.notifications
  drop constraint notifications_recipient_id_fkey,
  drop constraint notifications_session_id_fkey;
comment on column public.notifications.recipient_id is
  'Who it is for (not a foreign key: only the rules write it, and a person''s messages are deleted with the person).';
comment on column public.notifications.session_id is
  'The session it is about, if any (not a foreign key: only the rules write it, and a booked session is never deleted).';

alter table private.calendar_jobs
  drop constraint calendar_jobs_session_id_fkey,
  drop constraint calendar_jobs_mentor_id_fkey;
comment on column private.calendar_jobs.session_id is
  'The session whose event to create, move or delete (not a foreign key: only the rules write it, and a booked session is never deleted).';
comment on column private.calendar_jobs.mentor_id is 'Whose calendar: the session''s mentor.';
