-- Reports (issue 13, money and activity marts): what the reports need that the app did not record.
-- 1. Each refund as a row of its own: payments keep only the cumulative refunded_cents, so the day
--    of a partial refund was lost when a later one came (revenue_daily counts a refund on its day).
-- 2. A change stamp on the outbox, and indexes on the change stamps the incremental marts read
--    (the groups touched since the last build are found through them, not by a scan), and on the
--    UTC days they group by (a touched day's rows are read again through them).

create table private.payment_refunds (
  id bigint generated always as identity primary key,
  payment_id uuid not null references public.payments (id) on delete restrict,
  amount_cents integer not null check (amount_cents > 0),
  refunded_total_cents integer not null check (refunded_total_cents >= amount_cents),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  refunded_at timestamptz not null default private.stamp_now()
);
comment on table private.payment_refunds is
  'One row per refund of a payment, written by private.refund_payment: what this refund gave back and when (payments.refunded_cents is only the running total).';
comment on column private.payment_refunds.id is 'Refund number (order of recording).';
comment on column private.payment_refunds.payment_id is 'The payment refunded.';
comment on column private.payment_refunds.amount_cents is 'Amount of THIS refund, in minor units of currency.';
comment on column private.payment_refunds.refunded_total_cents is 'The payment''s refunded amount in all after this refund.';
comment on column private.payment_refunds.currency is 'ISO 4217 currency, lowercase (the payment''s).';
comment on column private.payment_refunds.refunded_at is 'When the refund was recorded (the business clock).';
create index payment_refunds_payment_id_idx on private.payment_refunds (payment_id);
create index payment_refunds_refunded_day_idx on private.payment_refunds (((refunded_at at time zone 'UTC')::date));
alter table private.payment_refunds enable row level security;

-- Refunds recorded before this table: one row per refunded payment, its total, dated at the
-- payment's last change (the last refund is the last change a payment gets).
insert into private.payment_refunds (payment_id, amount_cents, refunded_total_cents, currency, refunded_at)
select id, refunded_cents, refunded_cents, currency, updated_at
  from public.payments
 where refunded_cents > 0;

-- The outbox's change stamp: set by the updated_at trigger of sql/rules/timestamps.sql, which
-- covers every table with an updated_at column. Existing rows: their last known change.
alter table public.notifications add column updated_at timestamptz;
update public.notifications set updated_at = greatest(created_at, sent_at, voided_at);
alter table public.notifications
  alter column updated_at set default private.stamp_now(),
  alter column updated_at set not null;
comment on column public.notifications.updated_at is 'Last change.';

create index notifications_updated_at_idx on public.notifications (updated_at);
-- message_delivery recomputes the UTC days (of send_after) that a change touched, revenue_daily
-- those of paid_at; each reads its days through these.
create index notifications_send_day_idx on public.notifications (((send_after at time zone 'UTC')::date));
create index payments_paid_day_idx on public.payments (((paid_at at time zone 'UTC')::date));
create index sessions_updated_at_idx on public.sessions (updated_at);
create index payments_updated_at_idx on public.payments (updated_at);
