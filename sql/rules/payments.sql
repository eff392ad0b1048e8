-- The money path: an order is priced and holds a seat (create_order); a verified provider
-- webhook is stored once in the inbox and applied in the same transaction
-- (record_payment_event): payment -> pack and seat, refund -> pack refunded or recorded,
-- checkout expired -> hold released. Exactly once: the inbox is unique per provider event id,
-- and every step also checks the order's state, so a replay under another id changes nothing.

-- Amounts --------------------------------------------------------------------------------------

-- ISO 4217 minor units of a PayPal amount ({"currency_code": "USD", "value": "240.00"}), exactly
-- (numeric, never floats): what Stripe and our tables count in. Yen have no minor unit; PayPal
-- writes forints and Taiwan dollars without decimals, but they have cents ("1500" HUF = 150000).
create or replace function private.paypal_amount_cents(amount jsonb)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
declare
  digits integer := case when upper(amount ->> 'currency_code') = 'JPY' then 0 else 2 end;
  value numeric;
begin
  if amount is null or jsonb_typeof(amount) = 'null' then
    return null;
  end if;
  if amount ->> 'value' is null or amount ->> 'value' !~ '^[0-9]+(\.[0-9]+)?$' then
    perform private.refuse(422, format('amount.value %s is not a decimal amount', amount ->> 'value'), details => 'payload');
  end if;
  value := (amount ->> 'value')::numeric * (10 ^ digits)::numeric;
  if value <> trunc(value) then
    perform private.refuse(422, format('amount.value %s has more than %s decimals', amount ->> 'value', digits), details => 'payload');
  end if;
  return value::integer;
end
$$;
comment on function private.paypal_amount_cents(jsonb) is
  'A PayPal amount object in ISO 4217 minor units (exact; yen have none, "1500" HUF is 150000).';
revoke execute on function private.paypal_amount_cents(jsonb) from public, anon, authenticated;

create or replace function private.admin_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(p.id order by p.id), '{}') from public.profiles p where p.role = 'admin'
$$;
comment on function private.admin_ids() is 'Everyone who gets admin notifications.';
revoke execute on function private.admin_ids() from public, anon, authenticated;

-- An id from a provider's payload (metadata.order_id, custom_id): a uuid, or null when it is not one.
create or replace function private.as_uuid(value text)
returns uuid
language sql
immutable
set search_path = ''
as $$
  select case when value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then value::uuid end
$$;
comment on function private.as_uuid(text) is 'The text as a uuid, or null when it is not one.';
revoke execute on function private.as_uuid(text) from public, anon, authenticated;

-- Ordering -------------------------------------------------------------------------------------

-- The student's grandfathered price for a product: what they paid before the promotion on
-- their last paid order of it, when that is lower than today's price. Prices of different
-- products (4 or 8 sessions) are not comparable, so only the same product counts.
create or replace function private.grandfathered_price(student_id uuid, product public.mentorship_products)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
  select price
    from (select coalesce(o.grandfathered_price_cents, o.list_price_cents) as price
            from public.orders o
           where o.student_id = grandfathered_price.student_id and o.product_id = product.id
             and o.status = 'paid' and o.currency = product.currency
           order by o.paid_at desc
           limit 1) last
   where price < product.price_cents
$$;
comment on function private.grandfathered_price(uuid, public.mentorship_products) is
  'The lower list price of the student''s last paid order of this product, if lower than today''s.';
revoke execute on function private.grandfathered_price(uuid, public.mentorship_products) from public, anon, authenticated;

-- A promotion code checked for this student and product; the row is locked so the redemption
-- count cannot be overtaken by a concurrent order. Raises PT422 saying what is wrong.
create or replace function private.promotion_for(code text, student_id uuid, product public.mentorship_products)
returns public.promotion_codes
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  promo public.promotion_codes;
  used integer;
begin
  select * into promo from public.promotion_codes pc where pc.code = upper(btrim(promotion_for.code)) for update;
  if not found then
    perform private.refuse(422, format('promotion code %s is unknown', private.quoted(upper(btrim(code)))), details => 'promo_code');
  end if;
  if not promo.is_active then
    perform private.refuse(422, format('promotion code %s is no longer valid', promo.code), details => 'promo_code');
  end if;
  if promo.valid_from > now_ then
    perform private.refuse(422, format('promotion code %s is valid from %s', promo.code, promo.valid_from), details => 'promo_code');
  end if;
  if promo.valid_until is not null and promo.valid_until <= now_ then
    perform private.refuse(422, format('promotion code %s expired at %s', promo.code, promo.valid_until), details => 'promo_code');
  end if;
  if promo.product_id is not null and promo.product_id <> product.id then
    perform private.refuse(422, format('promotion code %s is not valid for this product', promo.code), details => 'promo_code');
  end if;
  if promo.mentor_id is not null and promo.mentor_id <> product.mentor_id then
    perform private.refuse(422, format('promotion code %s is not valid for this mentor''s products', promo.code), details => 'promo_code');
  end if;
  if promo.currency is not null and promo.currency <> product.currency then
    perform private.refuse(422, format('promotion code %s is for prices in %s, this product is in %s', promo.code, upper(promo.currency), upper(product.currency)), details => 'promo_code');
  end if;
  if exists (select from public.orders o
              where o.promotion_code_id = promo.id and o.student_id = promotion_for.student_id
                and o.status not in ('expired', 'canceled')) then
    perform private.refuse(422, format('you have already used promotion code %s', promo.code), details => 'promo_code');
  end if;
  if promo.max_redemptions is not null then
    select count(*) into used from public.orders o
     where o.promotion_code_id = promo.id and o.status not in ('expired', 'canceled');
    if used >= promo.max_redemptions then
      perform private.refuse(422, format('promotion code %s is used up', promo.code), details => 'promo_code');
    end if;
  end if;
  return promo;
end
$$;
comment on function private.promotion_for(text, uuid, public.mentorship_products) is
  'The promotion code, locked, when this student may use it on this product; PT422 naming the reason otherwise.';
revoke execute on function private.promotion_for(text, uuid, public.mentorship_products) from public, anon, authenticated;

create or replace function private.create_order(product_id uuid, provider text, promo_code text)
returns public.orders
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  me uuid := (select auth.uid());
  settings public.platform_settings;
  product public.mentorship_products;
  mentor public.mentors;
  prov public.payment_provider;
  o public.orders;
  seat public.seat_reservations;
  promo public.promotion_codes;
  base integer;
  grandfathered integer;
  discount integer := 0;
  hold_until timestamptz;
begin
  if me is null or not exists (select from public.profiles p where p.id = me and p.role = 'student') then
    perform private.refuse(403, 'only students can buy session packs');
  end if;
  if create_order.product_id is null then
    perform private.refuse(422, 'product_id is required', details => 'product_id');
  end if;
  if create_order.provider is null or create_order.provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider must be stripe or paypal, not %s', coalesce(create_order.provider, 'null')), details => 'provider');
  end if;
  prov := create_order.provider::public.payment_provider;
  select * into product from public.mentorship_products x where x.id = create_order.product_id;
  if not found then
    perform private.refuse(404, format('no product with id %s', create_order.product_id));
  end if;
  -- One checkout at a time per student and mentor: concurrent calls queue here.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(me::text || product.mentor_id::text, 0));
  select * into mentor from public.mentors m where m.id = product.mentor_id;
  if not product.is_active or not mentor.is_active then
    perform private.refuse(409, 'this product is no longer sold');
  end if;

  -- An open checkout for the same product is returned, not duplicated.
  select * into o from public.orders x
   where x.student_id = me and x.product_id = product.id and x.status = 'pending'
   for update;
  if found and o.expires_at > now_ then
    if o.provider = prov then
      return o;
    end if;
    -- switching provider: the old checkout is abandoned; its hold passes to the new order
    update public.orders set status = 'canceled' where id = o.id;
  elsif found then
    update public.orders set status = 'expired' where id = o.id;
  end if;

  select * into settings from public.platform_settings;
  -- Stripe refuses a Checkout Session that expires less than 30 minutes after it is created.
  hold_until := now_ + make_interval(mins => greatest(settings.seat_hold_minutes,
                                                      case when prov = 'stripe' then 32 else 0 end));

  -- The seat: the student's own live seat (renewal), or a new hold, which counts against capacity.
  select * into seat from public.seat_reservations s
   where s.mentor_id = product.mentor_id and s.student_id = me and s.status <> 'released'
   for update;
  if not found then
    if not mentor.accepting_students then
      perform private.refuse(409, format('%s is not taking new students right now', mentor.public_name));
    end if;
    insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)
    values (product.mentor_id, me, 'hold', hold_until)
    returning * into seat;
  elsif seat.status = 'hold' then
    -- a hold of an earlier checkout (live, or run out and not yet swept): extend it, which
    -- counts it against capacity again when it had run out
    update public.seat_reservations set hold_expires_at = greatest(hold_expires_at, hold_until)
     where id = seat.id
     returning * into seat;
    hold_until := seat.hold_expires_at;
  end if;

  -- Price: the grandfathered price, then the promotion.
  grandfathered := private.grandfathered_price(me, product);
  base := coalesce(grandfathered, product.price_cents);
  if nullif(btrim(promo_code), '') is not null then
    promo := private.promotion_for(promo_code, me, product);
    discount := case
      when promo.percent_off is not null then (base * promo.percent_off + 50) / 100  -- half up
      else least(promo.amount_off_cents, base) end;
  end if;

  insert into public.orders (student_id, mentor_id, product_id, seat_reservation_id, promotion_code_id, provider,
                             list_price_cents, grandfathered_price_cents, discount_cents, amount_cents, currency,
                             sessions_count, validity_days, expires_at)
  values (me, product.mentor_id, product.id, seat.id, promo.id, prov,
          product.price_cents, grandfathered, discount, base - discount, product.currency,
          product.sessions_count, product.validity_days, hold_until)
  returning * into o;
  return o;
end
$$;
comment on function private.create_order(uuid, text, text) is 'See public.create_order.';
revoke execute on function private.create_order(uuid, text, text) from public, anon;
grant execute on function private.create_order(uuid, text, text) to authenticated;


-- Checkout bookkeeping (the Python service) -------------------------------------------------

create or replace function private.attach_order_checkout(order_id uuid, provider_checkout_id text)
returns public.orders
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  o public.orders;
begin
  if nullif(btrim(provider_checkout_id), '') is null then
    perform private.refuse(422, 'provider_checkout_id is required', details => 'provider_checkout_id');
  end if;
  select * into o from public.orders x where x.id = attach_order_checkout.order_id for update;
  if not found then
    perform private.refuse(404, format('no order with id %s', attach_order_checkout.order_id));
  end if;
  if o.provider_checkout_id = attach_order_checkout.provider_checkout_id then
    return o;
  end if;
  if o.provider_checkout_id is not null then
    perform private.refuse(409, format('order %s already has checkout %s', o.id, o.provider_checkout_id));
  end if;
  if o.status <> 'pending' then
    perform private.refuse(409, format('order %s is %s, not pending', o.id, o.status));
  end if;
  update public.orders set provider_checkout_id = attach_order_checkout.provider_checkout_id
   where id = o.id
   returning * into o;
  return o;
end
$$;
comment on function private.attach_order_checkout(uuid, text) is 'See public.attach_order_checkout.';
revoke execute on function private.attach_order_checkout(uuid, text) from public, anon, authenticated;
grant execute on function private.attach_order_checkout(uuid, text) to service_role;


create or replace function private.order_for_capture(order_id uuid)
returns public.orders
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  o public.orders;
  hold public.seat_reservations;
begin
  select * into o from public.orders x where x.id = order_for_capture.order_id;
  if not found then
    perform private.refuse(404, format('no order with id %s', order_for_capture.order_id));
  end if;
  if o.student_id is distinct from (select auth.uid()) then
    perform private.refuse(403, 'this order is not yours');
  end if;
  if o.provider <> 'paypal' or o.provider_checkout_id is null then
    perform private.refuse(409, format('order %s has no PayPal checkout to capture', o.id));
  end if;
  if o.status <> 'pending' then
    perform private.refuse(409, format('order %s is %s, not pending', o.id, o.status));
  end if;
  select * into hold from public.seat_reservations s where s.id = o.seat_reservation_id;
  if o.expires_at <= private.clock_now()
     or (hold.status = 'hold' and hold.hold_expires_at <= private.clock_now())
     or hold.status = 'released' then
    perform private.refuse(409, format('the seat hold for order %s ran out; start a new checkout', o.id));
  end if;
  return o;
end
$$;
comment on function private.order_for_capture(uuid) is 'See public.order_for_capture.';
revoke execute on function private.order_for_capture(uuid) from public, anon;
grant execute on function private.order_for_capture(uuid) to authenticated;


-- Fulfilment -----------------------------------------------------------------------------------

-- Serialises the events about one provider payment until commit (payment and its refunds).
create or replace function private.lock_payment(prov public.payment_provider, payment_ref text)
returns void
language sql
volatile
set search_path = ''
as $$
  select case when payment_ref is not null
    then pg_catalog.pg_advisory_xact_lock(3, pg_catalog.hashtext(prov::text || ':' || payment_ref)) end
$$;
comment on function private.lock_payment(public.payment_provider, text) is
  'Waits for other transactions handling events of this provider payment to commit.';
revoke execute on function private.lock_payment(public.payment_provider, text) from public, anon, authenticated;

-- Flags an order for review: nothing is granted, the admins are told.
create or replace function private.flag_order(o public.orders, reason text, event_key text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  if o.status = 'pending' or o.status = 'expired' or o.status = 'canceled' then
    update public.orders set status = 'flagged', flagged_reason = flag_order.reason where id = o.id;
  end if;
  perform private.notify(private.admin_ids(), 'payment_flagged', event_key,
                         jsonb_build_object('order_id', o.id, 'student_id', o.student_id,
                                            'mentor_id', o.mentor_id, 'reason', reason));
  return jsonb_build_object('outcome', 'flagged', 'order_id', o.id, 'reason', reason);
end
$$;
comment on function private.flag_order(public.orders, text, text) is
  'Marks an unpaid order flagged with the reason and tells the admins (a paid order keeps its state).';
revoke execute on function private.flag_order(public.orders, text, text) from public, anon, authenticated;

create or replace function private.fulfil_order(
  prov public.payment_provider, order_ref text, payment_ref text, amount_cents integer, currency text,
  checkout_id text
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  refusal text;
  now_ timestamptz := private.clock_now();
  settings public.platform_settings;
  o public.orders;
  seat public.seat_reservations;
  pack public.session_packs;
  pay public.payments;
  ev private.webhook_events;
  result jsonb;
begin
  if private.as_uuid(order_ref) is null then
    perform private.notify(private.admin_ids(), 'payment_flagged', format('payment:%s:%s:no_order', prov, payment_ref),
                           jsonb_build_object('payment_ref', payment_ref, 'reason', 'payment names no order'));
    return jsonb_build_object('outcome', 'flagged', 'reason', 'payment names no order', 'payment_ref', payment_ref);
  end if;
  -- Events about one payment take turns (a refund racing its payment must not be parked
  -- after the payment looked for parked refunds); taken before the order row, as refunds do.
  perform private.lock_payment(prov, payment_ref);
  select * into o from public.orders x where x.id = private.as_uuid(order_ref) for update;
  if not found then
    perform private.notify(private.admin_ids(), 'payment_flagged', format('payment:%s:%s:unknown_order', prov, payment_ref),
                           jsonb_build_object('payment_ref', payment_ref, 'order_ref', order_ref,
                                              'reason', 'payment for an unknown order'));
    return jsonb_build_object('outcome', 'flagged', 'reason', 'payment for an unknown order', 'payment_ref', payment_ref);
  end if;
  if payment_ref is null or fulfil_order.amount_cents is null or fulfil_order.currency is null then
    return private.flag_order(o, 'the payment event carries no payment id or amount', format('order:%s:flagged:no_payment_id', o.id));
  end if;
  select * into pay from public.payments p where p.provider = prov and p.provider_payment_id = payment_ref;
  if found then
    return jsonb_build_object('outcome', 'duplicate', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;

  -- The money arrived: record it whatever happens next.
  insert into public.payments (order_id, student_id, provider, provider_payment_id, amount_cents, currency, paid_at)
  values (o.id, o.student_id, prov, payment_ref, fulfil_order.amount_cents, lower(fulfil_order.currency), now_)
  returning * into pay;

  if o.status in ('paid', 'refunded', 'flagged') then
    return private.flag_order(o, format('a second payment (%s) for an order already %s', payment_ref, o.status),
                              format('order:%s:flagged:extra:%s', o.id, payment_ref))
           || jsonb_build_object('payment_ref', payment_ref);
  end if;
  if o.provider <> prov then
    return private.flag_order(o, format('paid with %s, ordered with %s', prov, o.provider),
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end if;
  if pay.amount_cents <> o.amount_cents or pay.currency <> o.currency then
    return private.flag_order(o, format('paid %s %s, expected %s %s', pay.amount_cents, upper(pay.currency),
                                        o.amount_cents, upper(o.currency)),
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end if;

  -- The seat: the order's hold or live seat; a hold that ran out is taken again if a seat is free.
  select * into seat from public.seat_reservations s
   where s.mentor_id = o.mentor_id and s.student_id = o.student_id and s.status <> 'released'
   for update;
  begin
    if not found then
      insert into public.seat_reservations (mentor_id, student_id, status, activated_at)
      values (o.mentor_id, o.student_id, 'active', now_)
      returning * into seat;
    elsif seat.status = 'hold' then
      update public.seat_reservations set status = 'active', activated_at = now_
       where id = seat.id
       returning * into seat;
    end if;
  exception when sqlstate 'PGRST' then
    get stacked diagnostics refusal = message_text;
    if refusal::json ->> 'code' <> 'PT409' then  -- only "no free seat" is expected here
      raise;
    end if;
    return private.flag_order(o, 'paid after the seat hold ran out, and the mentor has no free seat now',
                              format('order:%s:flagged', o.id)) || jsonb_build_object('payment_ref', payment_ref);
  end;

  select * into settings from public.platform_settings;
  insert into public.session_packs (student_id, mentor_id, product_id, order_id, seat_reservation_id,
                                    sessions_total, remaining_sessions, price_cents, currency,
                                    grace_period_hours, cancel_notice_hours, purchased_at, expires_at)
  select o.student_id, o.mentor_id, o.product_id, o.id, seat.id,
         coalesce(o.sessions_count, pr.sessions_count), coalesce(o.sessions_count, pr.sessions_count),
         o.amount_cents, o.currency, settings.grace_period_hours, settings.cancel_notice_hours,
         now_, now_ + make_interval(days => coalesce(o.validity_days, pr.validity_days))
    from public.mentorship_products pr where pr.id = o.product_id
  returning * into pack;
  update public.orders
     set status = 'paid', paid_at = now_, seat_reservation_id = seat.id,
         provider_checkout_id = coalesce(provider_checkout_id, fulfil_order.checkout_id)
   where id = o.id;
  perform private.refresh_seat(seat.id);  -- a renewal brings a seat in grace back
  perform private.notify(array[o.student_id, o.mentor_id], 'pack_purchased', format('order:%s:paid', o.id),
                         jsonb_build_object('order_id', o.id, 'pack_id', pack.id, 'mentor_id', o.mentor_id,
                                            'student_id', o.student_id, 'sessions', pack.sessions_total,
                                            'expires_at', pack.expires_at, 'amount_cents', pay.amount_cents,
                                            'currency', pay.currency),
                         null, null, pack.id);
  result := jsonb_build_object('outcome', 'fulfilled', 'order_id', o.id, 'pack_id', pack.id, 'payment_ref', payment_ref);

  -- Refunds that arrived before this payment.
  for ev in
    select * from private.webhook_events w
     where w.provider = prov and w.payment_ref = fulfil_order.payment_ref and w.outcome = 'deferred'
     order by w.id
       for update
  loop
    perform private.settle_event(ev, private.apply_payment_event(ev.provider, ev.event_type, ev.payload));
  end loop;
  return result;
end
$$;
comment on function private.fulfil_order(public.payment_provider, text, text, integer, text, text) is
  'Applies a completed payment: records it; when it matches the order (provider, amount, currency) creates the pack, activates or renews the seat and tells both; otherwise flags the order. Then applies refunds that were waiting for it.';
revoke execute on function private.fulfil_order(public.payment_provider, text, text, integer, text, text)
  from public, anon, authenticated;

-- A checkout that ended unpaid: the order expires and its hold is released (unless another open
-- order holds it).
create or replace function private.release_order(order_ref text, new_status public.order_status)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  o public.orders;
begin
  if private.as_uuid(order_ref) is null then
    return jsonb_build_object('outcome', 'ignored', 'reason', 'no order id');
  end if;
  select * into o from public.orders x where x.id = private.as_uuid(order_ref) for update;
  if not found or o.status <> 'pending' then
    return jsonb_build_object('outcome', 'ignored', 'order_id', o.id,
                              'reason', coalesce('order is ' || o.status, 'unknown order'));
  end if;
  update public.orders set status = new_status where id = o.id;
  update public.seat_reservations s
     set status = 'released', released_at = now_, release_reason = 'hold_expired'
   where s.id = o.seat_reservation_id and s.status = 'hold'
     and not exists (select from public.orders x
                      where x.seat_reservation_id = s.id and x.status = 'pending' and x.id <> o.id);
  return jsonb_build_object('outcome', 'released', 'order_id', o.id);
end
$$;
comment on function private.release_order(text, public.order_status) is
  'Ends a pending order unpaid and releases its seat hold (unless another open order holds it).';
revoke execute on function private.release_order(text, public.order_status) from public, anon, authenticated;

-- Refunds: refunded_total is the payment's refunded amount in all, as the provider reports it.
create or replace function private.refund_payment(prov public.payment_provider, payment_ref text, refunded_total integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  pay public.payments;
  o public.orders;
  p public.session_packs;
  s public.sessions;
  total integer;
  canceled integer := 0;
begin
  if payment_ref is null then
    return jsonb_build_object('outcome', 'ignored', 'reason', 'refund names no payment');
  end if;
  perform private.lock_payment(prov, payment_ref);
  select * into pay from public.payments x where x.provider = prov and x.provider_payment_id = payment_ref;
  if not found then
    return jsonb_build_object('outcome', 'deferred', 'payment_ref', payment_ref);  -- kept for its payment
  end if;
  -- lock order: the order, then its pack, then the payment
  select * into o from public.orders x where x.id = pay.order_id for update;
  select * into p from public.session_packs x where x.order_id = o.id for update;
  select * into pay from public.payments x where x.id = pay.id for update;
  total := least(refunded_total, pay.amount_cents);
  if total <= pay.refunded_cents then
    return jsonb_build_object('outcome', 'duplicate', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;
  update public.payments
     set refunded_cents = total,
         status = case when total >= amount_cents then 'refunded' else 'partially_refunded' end::public.payment_status
   where id = pay.id
   returning * into pay;

  if pay.status = 'partially_refunded' then
    perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                           format('payment:%s:refund:%s', pay.id, total),
                           jsonb_build_object('order_id', o.id, 'refunded_cents', total, 'amount_cents', pay.amount_cents,
                                              'currency', pay.currency, 'full', false));
    return jsonb_build_object('outcome', 'partially_refunded', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;

  -- Full refund: the pack ends now, its future sessions are canceled without giving credits
  -- back, and the seat is released unless another live pack holds it.
  if o.status = 'paid' then
    update public.orders set status = 'refunded' where id = o.id;
  end if;
  if p.id is not null and p.status <> 'refunded' then
    for s in
      select * from public.sessions x
       where x.pack_id = p.id and x.status = 'scheduled' and x.starts_at > now_
       order by x.starts_at
         for update
    loop
      update public.sessions
         set status = 'canceled', canceled_at = now_, cancel_reason = 'pack refunded'
       where id = s.id
       returning * into s;
      perform private.void_reminders(s.id);
      perform private.notify(array[s.student_id, s.mentor_id], 'session_canceled', format('session:%s:canceled', s.id),
                             private.session_payload(s) || jsonb_build_object('canceled_by', 'refund',
                                                                              'credit_restored', false),
                             null, s.id);
      insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'delete');
      canceled := canceled + 1;
    end loop;
    if p.remaining_sessions > 0 then
      insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason)
      values (p.id, p.mentor_id, p.student_id, 'pack_refunded', -p.remaining_sessions, 'payment refunded in full');
    end if;
    update public.session_packs set status = 'refunded', refunded_at = now_ where id = p.id;
    if not exists (select from public.session_packs x
                    where x.seat_reservation_id = p.seat_reservation_id and x.status = 'active') then
      update public.seat_reservations
         set status = 'released', released_at = now_, release_reason = 'refunded'
       where id = p.seat_reservation_id and status <> 'released';
      perform private.void_grace_warnings(x) from public.seat_reservations x where x.id = p.seat_reservation_id;
    end if;
  end if;
  perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                         format('payment:%s:refund:%s', pay.id, total),
                         jsonb_build_object('order_id', o.id, 'pack_id', p.id, 'refunded_cents', total,
                                            'amount_cents', pay.amount_cents, 'currency', pay.currency,
                                            'full', true, 'sessions_canceled', canceled),
                         null, null, p.id);
  return jsonb_build_object('outcome', 'refunded', 'order_id', o.id, 'pack_id', p.id, 'payment_ref', payment_ref,
                            'sessions_canceled', canceled);
end
$$;
comment on function private.refund_payment(public.payment_provider, text, integer) is
  'Records a refund. Full: order and pack refunded, remaining credits to 0 through the ledger, future sessions canceled, seat released unless another live pack holds it. Partial: recorded, student and admins told, no credit change. Deferred when the payment is not known yet.';
revoke execute on function private.refund_payment(public.payment_provider, text, integer) from public, anon, authenticated;

-- What an event means, by provider and type. Unknown types are ignored (they stay in the inbox).
create or replace function private.apply_payment_event(prov public.payment_provider, event_type text, payload jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  obj jsonb;
  capture_ref text;
begin
  if prov = 'stripe' then
    obj := payload -> 'data' -> 'object';
    case event_type
      when 'checkout.session.completed', 'checkout.session.async_payment_succeeded' then
        if obj ->> 'payment_status' is distinct from 'paid' then
          return jsonb_build_object('outcome', 'awaiting_payment', 'order_id', obj -> 'metadata' ->> 'order_id');
        end if;
        return private.fulfil_order(prov, obj -> 'metadata' ->> 'order_id', obj ->> 'payment_intent',
                                    (obj ->> 'amount_total')::integer, obj ->> 'currency', obj ->> 'id');
      when 'checkout.session.expired' then
        return private.release_order(obj -> 'metadata' ->> 'order_id', 'expired');
      when 'checkout.session.async_payment_failed' then
        return private.release_order(obj -> 'metadata' ->> 'order_id', 'canceled');
      when 'charge.refunded' then
        return private.refund_payment(prov, obj ->> 'payment_intent', (obj ->> 'amount_refunded')::integer);
      else
        return jsonb_build_object('outcome', 'ignored');
    end case;
  end if;
  obj := payload -> 'resource';
  case event_type
    when 'PAYMENT.CAPTURE.COMPLETED' then
      return private.fulfil_order(prov, obj ->> 'custom_id', obj ->> 'id', private.paypal_amount_cents(obj -> 'amount'),
                                  obj -> 'amount' ->> 'currency_code',
                                  obj #>> '{supplementary_data,related_ids,order_id}');
    when 'PAYMENT.CAPTURE.REFUNDED' then
      select substring(l ->> 'href' from '/captures/([^/?]+)') into capture_ref
        from jsonb_array_elements(coalesce(obj -> 'links', '[]')) l
       where l ->> 'rel' = 'up';
      -- PayPal reports the capture's refunded total in the breakdown; older payloads only the refund
      return private.refund_payment(prov, capture_ref, coalesce(
        private.paypal_amount_cents(obj #> '{seller_payable_breakdown,total_refunded_amount}'),
        (select x.refunded_cents from public.payments x
          where x.provider = prov and x.provider_payment_id = capture_ref)
          + private.paypal_amount_cents(obj -> 'amount'),
        private.paypal_amount_cents(obj -> 'amount')));
    else
      return jsonb_build_object('outcome', 'ignored');
  end case;
end
$$;
comment on function private.apply_payment_event(public.payment_provider, text, jsonb) is
  'Applies one provider event: Stripe checkout.session.completed / async_payment_succeeded (fulfil), checkout.session.expired / async_payment_failed (release), charge.refunded; PayPal PAYMENT.CAPTURE.COMPLETED (fulfil), PAYMENT.CAPTURE.REFUNDED. Anything else is ignored.';
revoke execute on function private.apply_payment_event(public.payment_provider, text, jsonb) from public, anon, authenticated;

create or replace function private.settle_event(ev private.webhook_events, result jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  update private.webhook_events w
     set outcome = result ->> 'outcome',
         processed_at = case when result ->> 'outcome' = 'deferred' then null else private.clock_now() end,
         order_id = coalesce(w.order_id, (select o.id from public.orders o where o.id::text = result ->> 'order_id')),
         payment_ref = coalesce(w.payment_ref, result ->> 'payment_ref')
   where w.id = ev.id;
  return result;
end
$$;
comment on function private.settle_event(private.webhook_events, jsonb) is
  'Records in the inbox what applying an event did.';
revoke execute on function private.settle_event(private.webhook_events, jsonb) from public, anon, authenticated;

create or replace function private.record_payment_event(provider text, event_id text, event_type text, payload jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev private.webhook_events;
begin
  if record_payment_event.provider is null or record_payment_event.provider not in ('stripe', 'paypal') then
    perform private.refuse(422, format('provider must be stripe or paypal, not %s', coalesce(record_payment_event.provider, 'null')), details => 'provider');
  end if;
  if nullif(btrim(event_id), '') is null or nullif(btrim(event_type), '') is null then
    perform private.refuse(422, 'event_id and event_type are required', details => 'event_id');
  end if;
  if jsonb_typeof(payload) is distinct from 'object' then
    perform private.refuse(422, 'payload must be the event as a JSON object', details => 'payload');
  end if;
  insert into private.webhook_events (provider, event_id, event_type, payload)
  values (record_payment_event.provider::public.payment_provider, event_id, event_type, payload)
  on conflict on constraint webhook_events_provider_event_id_key do nothing
  returning * into ev;
  if not found then
    return jsonb_build_object('outcome', 'duplicate', 'event_id', event_id);
  end if;
  return private.settle_event(ev, private.apply_payment_event(ev.provider, ev.event_type, ev.payload))
         || jsonb_build_object('event_id', event_id);
end
$$;
comment on function private.record_payment_event(text, text, text, jsonb) is 'See public.record_payment_event.';
revoke execute on function private.record_payment_event(text, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.record_payment_event(text, text, text, jsonb) to service_role;

