-- The outbox's delivery: a dispatcher worker claims due messages under a lease, reports each one
-- sent or failed, and a failure is retried with backoff until it gives up (the rules are in
-- sql/rules/outbox.sql). This adds what those rules keep on a message, the retry policy's
-- settings, and the kind that tells the admins a message could not be delivered.

-- A message that failed for good is reported to the admins as a message of its own. Not
-- payment_flagged: that one is about an order, and an admin's filter or template for it would
-- be wrong for an undelivered reminder. (A new value cannot be used in the transaction that adds
-- it: the rules that queue it come in a later migration.)
alter type public.notification_kind add value if not exists 'delivery_failed';

alter table public.notifications
  add column next_attempt_at timestamptz,
  add column locked_until timestamptz,
  add column claimed_by text check (length(claimed_by) between 1 and 200),
  add column provider_message_id text check (length(provider_message_id) between 1 and 500);
comment on column public.notifications.next_attempt_at is
  'Not retried before this instant (set when a delivery attempt failed; null before the first failure).';
comment on column public.notifications.locked_until is
  'While sending: the claim''s lease; when it runs out (the worker died) the message goes back to pending.';
comment on column public.notifications.claimed_by is 'The worker that claimed it last.';
comment on column public.notifications.provider_message_id is
  'The provider''s id of the delivered message (Resend email id, Discord message id).';

-- Nothing delivered messages before this migration, so no row is sending; a row that was
-- would have no lease, and would never be claimed again.
update public.notifications set status = 'pending' where status = 'sending';
alter table public.notifications
  add constraint notifications_sending_has_lease check (status <> 'sending' or locked_until is not null);

-- The claim reads due messages in the order they fell due: never tried ones by send_after,
-- retries by next_attempt_at (always later than send_after), i.e. greatest(), which skips a
-- null. It replaces the index on send_after alone, which served the same rows.
drop index public.notifications_due_idx;
create index notifications_due_idx on public.notifications ((greatest(send_after, next_attempt_at)), id)
  where status = 'pending';
-- The claim also returns the messages whose lease ran out: few rows at any time.
create index notifications_lease_idx on public.notifications (locked_until) where status = 'sending';

-- The retry policy, a setting like the others (admins may tune it without a release, and the
-- tests set it): attempt n that fails is retried after min(base * 2^(n-1), max) seconds, the
-- second half of that delay drawn at random (jitter), until max_attempts attempts failed.
alter table public.platform_settings
  add column message_max_attempts integer not null default 8 check (message_max_attempts between 1 and 50),
  add column message_retry_base_seconds integer not null default 30
    check (message_retry_base_seconds between 1 and 3600),
  add column message_retry_max_seconds integer not null default 3600
    check (message_retry_max_seconds between 1 and 86400),
  add constraint platform_settings_message_retry_check check (message_retry_base_seconds <= message_retry_max_seconds);
comment on column public.platform_settings.message_max_attempts is
  'Delivery attempts of a message before it fails for good (and the admins are told).';
comment on column public.platform_settings.message_retry_base_seconds is
  'Delay before retrying a message after its first failed attempt; it doubles with each further failure.';
comment on column public.platform_settings.message_retry_max_seconds is 'The longest delay between two attempts.';
