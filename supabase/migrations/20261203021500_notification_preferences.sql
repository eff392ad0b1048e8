-- People choose which messages reach them: a row per person, kind and channel they changed
-- (no row: the message goes out). Only kinds that may be turned off may have a row; which those
-- are is one rule, private.message_kind_optional (sql/rules/preferences.sql), which the write
-- check, the queueing rule (private.notify_many) and the unsubscribe link all read.
--
-- A table, not a column on profiles: each switch is its own row under RLS (a person reads and
-- writes only theirs, admins read all), the unique key makes a PostgREST upsert idempotent, the
-- queueing rule reads one row by index, and a new kind or channel needs no change of shape. A
-- JSON column would need its shape checked and could not be indexed per switch.
create table public.notification_preferences (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  kind public.notification_kind not null,
  channel public.notification_channel not null,
  enabled boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, kind, channel)
);
comment on table public.notification_preferences is
  'Which messages reach a person: one row per kind and channel they switched (no row: it is sent). Only kinds that may be turned off (reminders, renewal nudges); list them with public.my_notification_preferences().';
comment on column public.notification_preferences.id is 'Preference id.';
comment on column public.notification_preferences.user_id is 'Whose preference it is (the caller by default).';
comment on column public.notification_preferences.kind is
  'The kind of message: session_reminder_24h, session_reminder_1h, renewal_reminder or one_session_left.';
comment on column public.notification_preferences.channel is 'email or discord.';
comment on column public.notification_preferences.enabled is
  'false: this kind is not sent to this person on this channel (checked when a message is queued); true: it is.';
comment on column public.notification_preferences.created_at is 'When it was first set.';
comment on column public.notification_preferences.updated_at is 'When it last changed.';
