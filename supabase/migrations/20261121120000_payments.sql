-- Payments: what an order fixes at creation, and the webhook inbox's links to orders and
-- payments (a refund that arrives before its payment waits in the inbox for it).

alter table public.orders
  add column sessions_count integer check (sessions_count between 1 and 52),
  add column validity_days integer check (validity_days between 1 and 730);
comment on column public.orders.sessions_count is 'Sessions the pack will hold (the product''s, when ordered).';
comment on column public.orders.validity_days is 'Days the pack will stay valid after payment (the product''s, when ordered).';

-- One open checkout per student and product: a second create_order returns it.
create unique index orders_one_pending_per_product_key
  on public.orders (student_id, product_id) where status = 'pending';
-- A promotion code once per student (an expired or abandoned order gives it back).
create unique index orders_promotion_once_per_student_key
  on public.orders (promotion_code_id, student_id)
  where promotion_code_id is not null and status not in ('expired', 'canceled');
create index orders_expires_at_idx on public.orders (expires_at) where status = 'pending';

alter table private.webhook_events
  add column order_id uuid references public.orders (id) on delete set null,
  add column payment_ref text;
comment on column private.webhook_events.order_id is 'The order the event was about, when it named one we know.';
comment on column private.webhook_events.payment_ref is 'Provider payment id the event is about (Stripe PaymentIntent, PayPal capture); a deferred refund waits for a payment with this id.';
create index webhook_events_order_id_idx on private.webhook_events (order_id);
create index webhook_events_deferred_idx on private.webhook_events (provider, payment_ref)
  where outcome = 'deferred';

comment on table public.audit_log is 'Append-only: admin actions and every state change of packs, seats, sessions, orders and payments. actor_id has no foreign key so history outlives accounts.';
comment on column public.promotion_codes.max_redemptions is 'Orders the code may be on in total (unlimited when null): paid, refunded, flagged and open ones count; expired and abandoned ones give their use back.';
