-- The data model. Constraints make bad states impossible rather than checked: money is integer
-- cents with a currency, time is timestamptz, every foreign key says what happens on delete.

create type public.user_role as enum ('student', 'mentor', 'admin');
comment on type public.user_role is 'What a person may do; read from profiles.role, never from user-editable metadata.';
create type public.payment_provider as enum ('stripe', 'paypal');
comment on type public.payment_provider is 'Payment provider of an order.';
create type public.order_status as enum ('pending', 'paid', 'expired', 'canceled', 'refunded', 'flagged');
comment on type public.order_status is 'pending: checkout open, seat held; paid: fulfilled; expired: hold ran out; canceled: abandoned; refunded: fully refunded; flagged: payment did not match, needs review.';
create type public.payment_status as enum ('succeeded', 'partially_refunded', 'refunded');
comment on type public.payment_status is 'State of a captured payment.';
create type public.pack_status as enum ('active', 'depleted', 'expired', 'refunded');
comment on type public.pack_status is 'active: bookable; depleted: no credits and no scheduled sessions left; expired: past expires_at; refunded: fully refunded.';
create type public.seat_status as enum ('hold', 'active', 'grace', 'released');
comment on type public.seat_status is 'hold: checkout in progress; active: paid; grace: pack used up or expired, released at grace_ends_at unless renewed; released: free again.';
create type public.session_status as enum ('scheduled', 'completed', 'canceled', 'late_canceled', 'student_no_show', 'mentor_no_show');
comment on type public.session_status is 'canceled: credit restored; late_canceled: student canceled inside the notice period, credit forfeited.';
create type public.credit_entry_kind as enum ('session_booked', 'session_canceled', 'mentor_no_show', 'admin_adjustment', 'pack_expired', 'pack_refunded');
comment on type public.credit_entry_kind is 'Why a pack''s remaining sessions moved.';
create type public.notification_channel as enum ('email', 'discord');
comment on type public.notification_channel is 'Delivery channel of an outbox message.';
create type public.notification_kind as enum (
  'pack_purchased', 'session_booked', 'session_rescheduled', 'session_canceled',
  'session_reminder_24h', 'session_reminder_1h', 'renewal_reminder', 'one_session_left',
  'grace_started', 'grace_warning', 'seat_released', 'refund_processed', 'payment_flagged'
);
comment on type public.notification_kind is 'What an outbox message is about.';
create type public.notification_status as enum ('pending', 'sending', 'sent', 'failed', 'voided');
comment on type public.notification_status is 'Delivery state of an outbox message.';

-- platform_settings --------------------------------------------------------------------------
create table public.platform_settings (
  id boolean primary key default true check (id),
  seat_hold_minutes integer not null default 30 check (seat_hold_minutes between 5 and 240),
  grace_period_hours integer not null default 72 check (grace_period_hours between 0 and 720),
  grace_warning_hours integer not null default 12 check (grace_warning_hours between 0 and 720),
  cancel_notice_hours integer not null default 24 check (cancel_notice_hours between 0 and 336),
  video_join_early_minutes integer not null default 10 check (video_join_early_minutes between 0 and 120),
  video_join_late_minutes integer not null default 15 check (video_join_late_minutes between 0 and 120),
  default_sessions_per_pack integer not null default 4 check (default_sessions_per_pack between 1 and 52),
  default_pack_validity_days integer not null default 90 check (default_pack_validity_days between 1 and 730),
  default_currency text not null default 'usd' check (default_currency ~ '^[a-z]{3}$'),
  updated_at timestamptz not null default now(),
  check (grace_warning_hours <= grace_period_hours)
);
comment on table public.platform_settings is 'The platform''s defaults (one row). Values in force at purchase are copied onto the pack.';
comment on column public.platform_settings.id is 'Always true: the table has exactly one row.';
comment on column public.platform_settings.seat_hold_minutes is 'How long a checkout holds a seat.';
comment on column public.platform_settings.grace_period_hours is 'How long a seat stays reserved after its pack is used up or expires.';
comment on column public.platform_settings.grace_warning_hours is 'How long before the seat is released the grace warning goes out.';
comment on column public.platform_settings.cancel_notice_hours is 'A student cancel or reschedule at least this long before the start restores the credit.';
comment on column public.platform_settings.video_join_early_minutes is 'How early before the start participants may join the call.';
comment on column public.platform_settings.video_join_late_minutes is 'How long after the end the call may still be joined.';
comment on column public.platform_settings.default_sessions_per_pack is 'Sessions in a new product unless the mentor sets otherwise.';
comment on column public.platform_settings.default_pack_validity_days is 'Days a new product''s pack stays valid unless the mentor sets otherwise.';
comment on column public.platform_settings.default_currency is 'ISO 4217 currency, lowercase, of new products.';
comment on column public.platform_settings.updated_at is 'Last change.';
insert into public.platform_settings default values;

-- profiles -----------------------------------------------------------------------------------
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  role public.user_role not null default 'student',
  email text,
  display_name text not null default '' check (length(display_name) <= 100),
  time_zone text not null default 'UTC' check (private.is_valid_time_zone(time_zone)),
  discord_user_id text unique check (discord_user_id ~ '^[0-9]{17,20}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.profiles is 'One row per person (auth.users), created by a trigger on sign-up.';
comment on column public.profiles.id is 'The auth.users id (JWT sub).';
comment on column public.profiles.role is 'student, mentor or admin; changed only by an admin.';
comment on column public.profiles.email is 'Sign-in email, copied from auth.users.';
comment on column public.profiles.display_name is 'Name shown to others.';
comment on column public.profiles.time_zone is 'IANA zone the person reads times in.';
comment on column public.profiles.discord_user_id is 'Discord user id (snowflake) for direct messages.';
comment on column public.profiles.created_at is 'When the profile was created.';
comment on column public.profiles.updated_at is 'Last change.';
create index profiles_role_idx on public.profiles (role);

-- mentors ------------------------------------------------------------------------------------
create table public.mentors (
  id uuid primary key references public.profiles (id) on delete cascade,
  slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 60),
  public_name text not null check (length(public_name) between 1 and 100),
  headline text not null default '' check (length(headline) <= 200),
  bio text not null default '' check (length(bio) <= 5000),
  avatar_url text check (avatar_url ~ '^https://'),
  portfolio_url text check (portfolio_url ~ '^https://'),
  time_zone text not null check (private.is_valid_time_zone(time_zone)),
  working_hours jsonb not null default '[]' check (private.is_valid_working_hours(working_hours)),
  seat_capacity integer not null default 5 check (seat_capacity between 0 and 500),
  slot_minutes integer not null default 60 check (slot_minutes between 15 and 240),
  slot_grid_minutes integer not null default 30 check (slot_grid_minutes between 5 and 240),
  buffer_minutes integer not null default 15 check (buffer_minutes between 0 and 120),
  min_notice_minutes integer not null default 720 check (min_notice_minutes between 0 and 20160),
  booking_horizon_days integer not null default 60 check (booking_horizon_days between 1 and 365),
  accepting_students boolean not null default true,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.mentors is 'A mentor''s public profile and booking settings; every column here is fit for the public catalog. Secrets (calendar credentials) live in private.';
comment on column public.mentors.id is 'The mentor''s profile id.';
comment on column public.mentors.slug is 'URL name, e.g. ana-ruiz.';
comment on column public.mentors.public_name is 'Name in the catalog.';
comment on column public.mentors.headline is 'One line under the name.';
comment on column public.mentors.bio is 'About the mentor.';
comment on column public.mentors.avatar_url is 'Picture (https).';
comment on column public.mentors.portfolio_url is 'Portfolio (https).';
comment on column public.mentors.time_zone is 'IANA zone working hours are written in.';
comment on column public.mentors.working_hours is 'Weekly windows in the mentor''s zone: [{"weekday":1..7 (1 = Monday),"start":"09:00","end":"17:00"}].';
comment on column public.mentors.seat_capacity is 'Students the mentor takes at once (active + grace seats + unexpired holds).';
comment on column public.mentors.slot_minutes is 'Length of one session.';
comment on column public.mentors.slot_grid_minutes is 'Sessions start on this grid, counted from midnight in the mentor''s zone.';
comment on column public.mentors.buffer_minutes is 'Free time kept after each session.';
comment on column public.mentors.min_notice_minutes is 'How far ahead a session must be booked.';
comment on column public.mentors.booking_horizon_days is 'How far into the future sessions can be booked.';
comment on column public.mentors.accepting_students is 'False: no new students (renewals still allowed).';
comment on column public.mentors.is_active is 'False: hidden from the catalog (set by an admin).';
comment on column public.mentors.created_at is 'When the mentor was created.';
comment on column public.mentors.updated_at is 'Last change.';
create index mentors_is_active_idx on public.mentors (is_active);

-- mentorship_products ------------------------------------------------------------------------
create table public.mentorship_products (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references public.mentors (id) on delete restrict,
  title text not null check (length(title) between 1 and 120),
  description text not null default '' check (length(description) <= 5000),
  sessions_count integer not null default 4 check (sessions_count between 1 and 52),
  validity_days integer not null default 90 check (validity_days between 1 and 730),
  price_cents integer not null check (price_cents between 0 and 100000000),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.mentorship_products is 'A session pack a mentor sells.';
comment on column public.mentorship_products.id is 'Product id.';
comment on column public.mentorship_products.mentor_id is 'The mentor who sells it.';
comment on column public.mentorship_products.title is 'Name in the catalog.';
comment on column public.mentorship_products.description is 'What the pack includes.';
comment on column public.mentorship_products.sessions_count is 'One-on-one sessions in the pack.';
comment on column public.mentorship_products.validity_days is 'Days from payment until the pack expires.';
comment on column public.mentorship_products.price_cents is 'Today''s price in the currency''s minor unit.';
comment on column public.mentorship_products.currency is 'ISO 4217 currency, lowercase.';
comment on column public.mentorship_products.is_active is 'False: no longer sold.';
comment on column public.mentorship_products.created_at is 'When the product was created.';
comment on column public.mentorship_products.updated_at is 'Last change.';
create index mentorship_products_mentor_id_idx on public.mentorship_products (mentor_id);
create index mentorship_products_is_active_idx on public.mentorship_products (is_active);

-- promotion_codes ----------------------------------------------------------------------------
create table public.promotion_codes (
  id uuid primary key default gen_random_uuid(),
  code text not null unique check (code ~ '^[A-Z0-9][A-Z0-9_-]{2,39}$'),
  percent_off integer check (percent_off between 1 and 100),
  amount_off_cents integer check (amount_off_cents > 0),
  currency text check (currency ~ '^[a-z]{3}$'),
  valid_from timestamptz not null default now(),
  valid_until timestamptz,
  max_redemptions integer check (max_redemptions > 0),
  product_id uuid references public.mentorship_products (id) on delete cascade,
  mentor_id uuid references public.mentors (id) on delete cascade,
  is_active boolean not null default true,
  created_by uuid default auth.uid() references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((percent_off is null) <> (amount_off_cents is null)),
  check ((amount_off_cents is null) = (currency is null)),
  check (valid_until is null or valid_until > valid_from)
);
comment on table public.promotion_codes is 'Discount codes: percent or fixed amount, a validity window, optional redemption cap and product or mentor scope; each student may use a code once.';
comment on column public.promotion_codes.id is 'Code id.';
comment on column public.promotion_codes.code is 'What the student types, uppercase.';
comment on column public.promotion_codes.percent_off is 'Percent discount (1-100); set this or amount_off_cents.';
comment on column public.promotion_codes.amount_off_cents is 'Fixed discount in minor units of currency.';
comment on column public.promotion_codes.currency is 'Currency of amount_off_cents.';
comment on column public.promotion_codes.valid_from is 'First instant the code works.';
comment on column public.promotion_codes.valid_until is 'Instant the code stops working (open-ended when null).';
comment on column public.promotion_codes.max_redemptions is 'Paid orders the code may be used on in total (unlimited when null).';
comment on column public.promotion_codes.product_id is 'Only for this product, when set.';
comment on column public.promotion_codes.mentor_id is 'Only for this mentor''s products, when set.';
comment on column public.promotion_codes.is_active is 'False: switched off.';
comment on column public.promotion_codes.created_by is 'Who created it.';
comment on column public.promotion_codes.created_at is 'When it was created.';
comment on column public.promotion_codes.updated_at is 'Last change.';
create index promotion_codes_product_id_idx on public.promotion_codes (product_id);
create index promotion_codes_mentor_id_idx on public.promotion_codes (mentor_id);
create index promotion_codes_created_by_idx on public.promotion_codes (created_by);

-- seat_reservations --------------------------------------------------------------------------
create table public.seat_reservations (
  id uuid primary key default gen_random_uuid(),
  mentor_id uuid not null references public.mentors (id) on delete restrict,
  student_id uuid not null references public.profiles (id) on delete restrict,
  status public.seat_status not null,
  hold_expires_at timestamptz,
  activated_at timestamptz,
  grace_started_at timestamptz,
  grace_ends_at timestamptz,
  released_at timestamptz,
  release_reason text check (release_reason in ('grace_ended', 'hold_expired', 'refunded', 'admin')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (status <> 'hold' or hold_expires_at is not null),
  check (status <> 'active' or activated_at is not null),
  check (status <> 'grace' or (grace_started_at is not null and grace_ends_at >= grace_started_at)),
  check (status <> 'released' or (released_at is not null and release_reason is not null))
);
comment on table public.seat_reservations is 'A student''s seat with a mentor: held during checkout, active while a pack is live, in grace after it, then released. One live seat per mentor and student.';
comment on column public.seat_reservations.id is 'Seat id.';
comment on column public.seat_reservations.mentor_id is 'The mentor.';
comment on column public.seat_reservations.student_id is 'The student.';
comment on column public.seat_reservations.status is 'hold, active, grace or released.';
comment on column public.seat_reservations.hold_expires_at is 'A hold stops counting against capacity at this instant.';
comment on column public.seat_reservations.activated_at is 'When a payment made the seat active (last time).';
comment on column public.seat_reservations.grace_started_at is 'When grace began.';
comment on column public.seat_reservations.grace_ends_at is 'When the seat is released unless renewed.';
comment on column public.seat_reservations.released_at is 'When the seat was released.';
comment on column public.seat_reservations.release_reason is 'grace_ended, hold_expired, refunded or admin.';
comment on column public.seat_reservations.created_at is 'When the seat was first held.';
comment on column public.seat_reservations.updated_at is 'Last change.';
create unique index seat_reservations_one_live_seat_key
  on public.seat_reservations (mentor_id, student_id) where status <> 'released';
create index seat_reservations_mentor_id_status_idx on public.seat_reservations (mentor_id, status);
create index seat_reservations_student_id_idx on public.seat_reservations (student_id);
create index seat_reservations_hold_expires_at_idx on public.seat_reservations (hold_expires_at) where status = 'hold';
create index seat_reservations_grace_ends_at_idx on public.seat_reservations (grace_ends_at) where status = 'grace';

-- orders -------------------------------------------------------------------------------------
create table public.orders (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.profiles (id) on delete restrict,
  mentor_id uuid not null references public.mentors (id) on delete restrict,
  product_id uuid not null references public.mentorship_products (id) on delete restrict,
  seat_reservation_id uuid references public.seat_reservations (id) on delete restrict,
  promotion_code_id uuid references public.promotion_codes (id) on delete restrict,
  provider public.payment_provider not null,
  status public.order_status not null default 'pending',
  list_price_cents integer not null check (list_price_cents >= 0),
  grandfathered_price_cents integer check (grandfathered_price_cents >= 0),
  discount_cents integer not null default 0 check (discount_cents >= 0),
  amount_cents integer not null check (amount_cents >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  provider_checkout_id text,
  expires_at timestamptz not null,
  paid_at timestamptz,
  flagged_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_checkout_id),
  check (amount_cents = coalesce(grandfathered_price_cents, list_price_cents) - discount_cents),
  check (status <> 'paid' or paid_at is not null),
  check (status <> 'flagged' or flagged_reason is not null)
);
comment on table public.orders is 'A student''s purchase of a product, priced at creation (grandfathered price, then promotion code).';
comment on column public.orders.id is 'Order id (Stripe metadata.order_id, PayPal custom_id).';
comment on column public.orders.student_id is 'The buyer.';
comment on column public.orders.mentor_id is 'The product''s mentor.';
comment on column public.orders.product_id is 'What is bought.';
comment on column public.orders.seat_reservation_id is 'The seat held for this order or renewed by it.';
comment on column public.orders.promotion_code_id is 'Code applied, if any.';
comment on column public.orders.provider is 'stripe or paypal.';
comment on column public.orders.status is 'pending, paid, expired, canceled, refunded or flagged.';
comment on column public.orders.list_price_cents is 'Product price when ordered.';
comment on column public.orders.grandfathered_price_cents is 'The student''s earlier, lower price with this mentor, when it applied.';
comment on column public.orders.discount_cents is 'Promotion discount.';
comment on column public.orders.amount_cents is 'What the student pays: (grandfathered or list price) - discount.';
comment on column public.orders.currency is 'ISO 4217 currency, lowercase.';
comment on column public.orders.provider_checkout_id is 'Stripe Checkout Session id or PayPal order id.';
comment on column public.orders.expires_at is 'Checkout must complete before this instant (the seat hold''s expiry).';
comment on column public.orders.paid_at is 'When payment was confirmed.';
comment on column public.orders.flagged_reason is 'Why the order needs review (e.g. amount mismatch).';
comment on column public.orders.created_at is 'When the order was created.';
comment on column public.orders.updated_at is 'Last change.';
create index orders_student_id_idx on public.orders (student_id);
create index orders_mentor_id_idx on public.orders (mentor_id);
create index orders_product_id_idx on public.orders (product_id);
create index orders_seat_reservation_id_idx on public.orders (seat_reservation_id);
create index orders_promotion_code_id_idx on public.orders (promotion_code_id);

-- payments -----------------------------------------------------------------------------------
create table public.payments (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null references public.orders (id) on delete restrict,
  student_id uuid not null references public.profiles (id) on delete restrict,
  provider public.payment_provider not null,
  provider_payment_id text not null,
  status public.payment_status not null default 'succeeded',
  amount_cents integer not null check (amount_cents >= 0),
  refunded_cents integer not null default 0 check (refunded_cents >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  paid_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_payment_id),
  check (refunded_cents <= amount_cents)
);
comment on table public.payments is 'Money received for an order, as the provider reported it.';
comment on column public.payments.id is 'Payment id.';
comment on column public.payments.order_id is 'The order paid.';
comment on column public.payments.student_id is 'Who paid.';
comment on column public.payments.provider is 'stripe or paypal.';
comment on column public.payments.provider_payment_id is 'Stripe PaymentIntent id or PayPal capture id.';
comment on column public.payments.status is 'succeeded, partially_refunded or refunded.';
comment on column public.payments.amount_cents is 'Amount captured.';
comment on column public.payments.refunded_cents is 'Amount refunded so far.';
comment on column public.payments.currency is 'ISO 4217 currency, lowercase.';
comment on column public.payments.paid_at is 'When the provider captured it.';
comment on column public.payments.created_at is 'When it was recorded.';
comment on column public.payments.updated_at is 'Last change.';
create index payments_order_id_idx on public.payments (order_id);
create index payments_student_id_idx on public.payments (student_id);

-- session_packs ------------------------------------------------------------------------------
create table public.session_packs (
  id uuid primary key default gen_random_uuid(),
  student_id uuid not null references public.profiles (id) on delete restrict,
  mentor_id uuid not null references public.mentors (id) on delete restrict,
  product_id uuid not null references public.mentorship_products (id) on delete restrict,
  order_id uuid unique references public.orders (id) on delete restrict,
  seat_reservation_id uuid not null references public.seat_reservations (id) on delete restrict,
  status public.pack_status not null default 'active',
  sessions_total integer not null check (sessions_total between 1 and 52),
  remaining_sessions integer not null check (remaining_sessions >= 0),
  price_cents integer not null check (price_cents >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  grace_period_hours integer not null check (grace_period_hours between 0 and 720),
  cancel_notice_hours integer not null check (cancel_notice_hours between 0 and 336),
  purchased_at timestamptz not null,
  expires_at timestamptz not null,
  depleted_at timestamptz,
  expired_at timestamptz,
  refunded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, mentor_id, student_id),
  check (expires_at > purchased_at),
  check (status <> 'depleted' or depleted_at is not null),
  check (status <> 'expired' or expired_at is not null),
  check (status <> 'refunded' or (refunded_at is not null and remaining_sessions = 0))
);
comment on table public.session_packs is 'Sessions a student bought from a mentor; remaining_sessions moves only through session_credit_ledger.';
comment on column public.session_packs.id is 'Pack id.';
comment on column public.session_packs.student_id is 'The student.';
comment on column public.session_packs.mentor_id is 'The mentor.';
comment on column public.session_packs.product_id is 'The product bought.';
comment on column public.session_packs.order_id is 'The paid order (null for packs granted by an admin).';
comment on column public.session_packs.seat_reservation_id is 'The seat this pack holds.';
comment on column public.session_packs.status is 'active, depleted, expired or refunded.';
comment on column public.session_packs.sessions_total is 'Sessions bought (value at purchase).';
comment on column public.session_packs.remaining_sessions is 'Credits left: sessions_total + the sum of the pack''s ledger entries.';
comment on column public.session_packs.price_cents is 'Price paid.';
comment on column public.session_packs.currency is 'ISO 4217 currency, lowercase.';
comment on column public.session_packs.grace_period_hours is 'Grace period in force at purchase.';
comment on column public.session_packs.cancel_notice_hours is 'Cancel notice in force at purchase.';
comment on column public.session_packs.purchased_at is 'When it was paid.';
comment on column public.session_packs.expires_at is 'Sessions must start before this instant; remaining credits are forfeited after it.';
comment on column public.session_packs.depleted_at is 'When the last credit was used and no session was left scheduled.';
comment on column public.session_packs.expired_at is 'When the pack expired.';
comment on column public.session_packs.refunded_at is 'When the pack was refunded in full.';
comment on column public.session_packs.created_at is 'When the pack was created.';
comment on column public.session_packs.updated_at is 'Last change.';
create index session_packs_student_id_idx on public.session_packs (student_id);
create index session_packs_mentor_id_idx on public.session_packs (mentor_id);
create index session_packs_product_id_idx on public.session_packs (product_id);
create index session_packs_seat_reservation_id_idx on public.session_packs (seat_reservation_id);
create index session_packs_expires_at_idx on public.session_packs (expires_at) where status = 'active';

-- sessions -----------------------------------------------------------------------------------
create table public.sessions (
  id uuid primary key default gen_random_uuid(),
  pack_id uuid not null,
  -- mentor_id and student_id are the pack's: the composite foreign key below guarantees them
  -- (and through the pack, that they exist), so they carry no foreign keys of their own.
  mentor_id uuid not null,
  student_id uuid not null,
  status public.session_status not null default 'scheduled',
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  blocked_until timestamptz not null,
  video_channel text not null unique default replace(gen_random_uuid()::text, '-', ''),
  google_event_id text unique,
  reschedule_count integer not null default 0 check (reschedule_count >= 0),
  canceled_at timestamptz,
  canceled_by uuid references public.profiles (id) on delete set null,
  cancel_reason text check (length(cancel_reason) <= 1000),
  completed_at timestamptz,
  notes text check (length(notes) <= 10000),
  recording_url text check (recording_url ~ '^https://'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (pack_id, mentor_id, student_id)
    references public.session_packs (id, mentor_id, student_id) on delete restrict,
  check (ends_at > starts_at),
  check (blocked_until >= ends_at),
  check (status not in ('canceled', 'late_canceled') or canceled_at is not null),
  check (status <> 'completed' or completed_at is not null),
  constraint sessions_mentor_no_overlap exclude using gist (
    mentor_id with =, tstzrange(starts_at, blocked_until) with &&
  ) where (status = 'scheduled'),
  constraint sessions_student_no_overlap exclude using gist (
    student_id with =, tstzrange(starts_at, ends_at) with &&
  ) where (status = 'scheduled')
);
comment on table public.sessions is 'One booked one-on-one video session. Scheduled sessions of a mentor (with buffer) or of a student cannot overlap: an exclusion constraint makes it impossible.';
comment on column public.sessions.id is 'Session id.';
comment on column public.sessions.pack_id is 'The pack the credit came from.';
comment on column public.sessions.mentor_id is 'The mentor (same as the pack''s).';
comment on column public.sessions.student_id is 'The student (same as the pack''s).';
comment on column public.sessions.status is 'scheduled, completed, canceled, late_canceled, student_no_show or mentor_no_show.';
comment on column public.sessions.starts_at is 'Start.';
comment on column public.sessions.ends_at is 'End.';
comment on column public.sessions.blocked_until is 'End plus the mentor''s buffer: the mentor is busy until then.';
comment on column public.sessions.video_channel is 'Agora channel name.';
comment on column public.sessions.google_event_id is 'The mentor''s Google Calendar event.';
comment on column public.sessions.reschedule_count is 'How often it was moved.';
comment on column public.sessions.canceled_at is 'When it was canceled.';
comment on column public.sessions.canceled_by is 'Who canceled it.';
comment on column public.sessions.cancel_reason is 'Why, as given.';
comment on column public.sessions.completed_at is 'When the mentor marked it complete.';
comment on column public.sessions.notes is 'Mentor''s notes.';
comment on column public.sessions.recording_url is 'Recording (https).';
comment on column public.sessions.created_at is 'When it was booked.';
comment on column public.sessions.updated_at is 'Last change.';
create index sessions_pack_id_idx on public.sessions (pack_id, mentor_id, student_id);
create index sessions_mentor_id_starts_at_idx on public.sessions (mentor_id, starts_at);
create index sessions_student_id_starts_at_idx on public.sessions (student_id, starts_at);
create index sessions_canceled_by_idx on public.sessions (canceled_by);

-- session_credit_ledger ----------------------------------------------------------------------
create table public.session_credit_ledger (
  id bigint generated always as identity primary key,
  pack_id uuid not null,
  -- the pack's mentor and student, guaranteed by the composite foreign key below
  mentor_id uuid not null,
  student_id uuid not null,
  session_id uuid references public.sessions (id) on delete restrict,
  kind public.credit_entry_kind not null,
  delta integer not null check (delta <> 0),
  reason text check (length(reason) <= 1000),
  actor_id uuid references public.profiles (id) on delete restrict,
  created_at timestamptz not null default now(),
  foreign key (pack_id, mentor_id, student_id)
    references public.session_packs (id, mentor_id, student_id) on delete restrict,
  check (kind <> 'admin_adjustment' or (reason is not null and length(btrim(reason)) > 0 and actor_id is not null)),
  check (kind not in ('session_booked', 'session_canceled', 'mentor_no_show') or session_id is not null)
);
comment on table public.session_credit_ledger is 'Append-only record of every credit movement; a pack''s remaining_sessions = sessions_total + sum(delta).';
comment on column public.session_credit_ledger.id is 'Entry number.';
comment on column public.session_credit_ledger.pack_id is 'The pack.';
comment on column public.session_credit_ledger.mentor_id is 'The pack''s mentor.';
comment on column public.session_credit_ledger.student_id is 'The pack''s student.';
comment on column public.session_credit_ledger.session_id is 'The session that moved the credit, if any.';
comment on column public.session_credit_ledger.kind is 'Why the credit moved.';
comment on column public.session_credit_ledger.delta is 'Credits added (positive) or used (negative).';
comment on column public.session_credit_ledger.reason is 'Free text (required for admin adjustments).';
comment on column public.session_credit_ledger.actor_id is 'Who caused it (null: the system).';
comment on column public.session_credit_ledger.created_at is 'When.';
create index session_credit_ledger_pack_id_idx on public.session_credit_ledger (pack_id, mentor_id, student_id);
create index session_credit_ledger_mentor_id_idx on public.session_credit_ledger (mentor_id);
create index session_credit_ledger_student_id_idx on public.session_credit_ledger (student_id);
create index session_credit_ledger_session_id_idx on public.session_credit_ledger (session_id);
create index session_credit_ledger_actor_id_idx on public.session_credit_ledger (actor_id);

-- notifications (outbox) ---------------------------------------------------------------------
create table public.notifications (
  id bigint generated always as identity primary key,
  recipient_id uuid not null references public.profiles (id) on delete cascade,
  kind public.notification_kind not null,
  channel public.notification_channel not null,
  dedupe_key text not null unique,
  payload jsonb not null default '{}' check (jsonb_typeof(payload) = 'object'),
  session_id uuid references public.sessions (id) on delete cascade,
  pack_id uuid references public.session_packs (id) on delete cascade,
  status public.notification_status not null default 'pending',
  send_after timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  sent_at timestamptz,
  voided_at timestamptz,
  created_at timestamptz not null default now(),
  check (status <> 'sent' or sent_at is not null),
  check (status <> 'voided' or voided_at is not null)
);
comment on table public.notifications is 'Outbox: messages written in the same transaction as the change that causes them, delivered by the dispatcher worker.';
comment on column public.notifications.id is 'Message number.';
comment on column public.notifications.recipient_id is 'Who it is for.';
comment on column public.notifications.kind is 'What it is about.';
comment on column public.notifications.channel is 'email or discord.';
comment on column public.notifications.dedupe_key is 'Unique per real-world event and channel, so a retried change queues nothing twice.';
comment on column public.notifications.payload is 'Template data.';
comment on column public.notifications.session_id is 'The session it is about, if any.';
comment on column public.notifications.pack_id is 'The pack it is about, for pack messages (a session message names its session; the payload carries the pack).';
comment on column public.notifications.status is 'pending, sending, sent, failed or voided.';
comment on column public.notifications.send_after is 'Not delivered before this instant (reminders).';
comment on column public.notifications.attempts is 'Delivery attempts so far.';
comment on column public.notifications.last_error is 'Last delivery error.';
comment on column public.notifications.sent_at is 'When it was delivered.';
comment on column public.notifications.voided_at is 'When it was voided (e.g. the session was canceled).';
comment on column public.notifications.created_at is 'When it was queued.';
create index notifications_recipient_id_idx on public.notifications (recipient_id);
-- partial: most messages are about either a session or a pack, so each index skips the others
create index notifications_session_id_idx on public.notifications (session_id) where session_id is not null;
create index notifications_pack_id_idx on public.notifications (pack_id) where pack_id is not null;
create index notifications_due_idx on public.notifications (send_after) where status = 'pending';

-- audit_log ----------------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  actor_id uuid,
  action text not null check (length(action) between 1 and 100),
  table_name text not null,
  row_id uuid,
  old_values jsonb,
  new_values jsonb,
  reason text,
  created_at timestamptz not null default now()
);
comment on table public.audit_log is 'Append-only: admin actions and every state change of packs, seats and sessions. actor_id has no foreign key so history outlives accounts.';
comment on column public.audit_log.id is 'Entry number.';
comment on column public.audit_log.actor_id is 'Who acted (JWT sub; null: the system or a worker).';
comment on column public.audit_log.action is 'What happened, e.g. session.status_changed.';
comment on column public.audit_log.table_name is 'Table of the changed row.';
comment on column public.audit_log.row_id is 'Changed row.';
comment on column public.audit_log.old_values is 'Changed columns before.';
comment on column public.audit_log.new_values is 'Changed columns after.';
comment on column public.audit_log.reason is 'Reason given, if any.';
comment on column public.audit_log.created_at is 'When.';
create index audit_log_row_id_idx on public.audit_log (row_id);
create index audit_log_actor_id_idx on public.audit_log (actor_id);

-- private: webhook inbox, calendar credentials and sync state, test clock --------------------
create table private.webhook_events (
  id bigint generated always as identity primary key,
  provider public.payment_provider not null,
  event_id text not null,
  event_type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  outcome text,
  unique (provider, event_id)
);
comment on table private.webhook_events is 'Inbox of verified provider webhooks; unique per provider event id, which makes delivery idempotent.';
comment on column private.webhook_events.id is 'Inbox number.';
comment on column private.webhook_events.provider is 'stripe or paypal.';
comment on column private.webhook_events.event_id is 'Provider''s event id.';
comment on column private.webhook_events.event_type is 'Provider''s event type.';
comment on column private.webhook_events.payload is 'The verified event body.';
comment on column private.webhook_events.received_at is 'When it first arrived.';
comment on column private.webhook_events.processed_at is 'When it was applied.';
comment on column private.webhook_events.outcome is 'What applying it did (fulfilled, ignored, deferred, ...).';

create table private.google_credentials (
  mentor_id uuid primary key references public.mentors (id) on delete cascade,
  calendar_id text not null default 'primary',
  refresh_token_ciphertext bytea not null,
  key_version integer not null default 1 check (key_version > 0),
  scopes text[] not null default '{}',
  connected_at timestamptz not null default now(),
  revoked_at timestamptz
);
comment on table private.google_credentials is 'A mentor''s Google Calendar grant; the refresh token is encrypted by the sync service before it is stored.';
comment on column private.google_credentials.mentor_id is 'The mentor.';
comment on column private.google_credentials.calendar_id is 'Calendar to read busy times from and write events to.';
comment on column private.google_credentials.refresh_token_ciphertext is 'Encrypted OAuth refresh token.';
comment on column private.google_credentials.key_version is 'Which encryption key sealed it.';
comment on column private.google_credentials.scopes is 'Granted OAuth scopes.';
comment on column private.google_credentials.connected_at is 'When the mentor connected.';
comment on column private.google_credentials.revoked_at is 'When the grant stopped working.';

create table private.calendar_busy_intervals (
  id bigint generated always as identity primary key,
  mentor_id uuid not null references public.mentors (id) on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  source_event_id text,
  synced_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
comment on table private.calendar_busy_intervals is 'Busy times from the mentor''s Google Calendar, as last synced.';
comment on column private.calendar_busy_intervals.id is 'Interval number.';
comment on column private.calendar_busy_intervals.mentor_id is 'The mentor.';
comment on column private.calendar_busy_intervals.starts_at is 'Busy from.';
comment on column private.calendar_busy_intervals.ends_at is 'Busy until.';
comment on column private.calendar_busy_intervals.source_event_id is 'Google event id, when known.';
comment on column private.calendar_busy_intervals.synced_at is 'When it was synced.';
create index calendar_busy_intervals_mentor_range_idx
  on private.calendar_busy_intervals using gist (mentor_id, tstzrange(starts_at, ends_at));

create table private.calendar_sync_state (
  mentor_id uuid primary key references public.mentors (id) on delete cascade,
  sync_token text,
  last_synced_at timestamptz,
  next_sync_at timestamptz not null default now(),
  last_error text,
  failures integer not null default 0 check (failures >= 0)
);
comment on table private.calendar_sync_state is 'Per-mentor progress of the calendar sync worker.';
comment on column private.calendar_sync_state.mentor_id is 'The mentor.';
comment on column private.calendar_sync_state.sync_token is 'Google incremental sync token.';
comment on column private.calendar_sync_state.last_synced_at is 'Last successful sync.';
comment on column private.calendar_sync_state.next_sync_at is 'When to sync next.';
comment on column private.calendar_sync_state.last_error is 'Last failure.';
comment on column private.calendar_sync_state.failures is 'Failures in a row (for back-off).';

create table private.clock (
  id boolean primary key default true check (id),
  frozen_at timestamptz
);
comment on table private.clock is 'Test clock: when frozen_at is set, private.clock_now() returns it instead of now(). Never set in production.';
comment on column private.clock.id is 'Always true: one row.';
comment on column private.clock.frozen_at is 'The frozen instant, or null for the real clock.';
insert into private.clock default values;

alter table private.webhook_events enable row level security;
alter table private.google_credentials enable row level security;
alter table private.calendar_busy_intervals enable row level security;
alter table private.calendar_sync_state enable row level security;
alter table private.clock enable row level security;
