-- Payments: an order is priced and holds a seat (create_order); the checkout bookkeeping of
-- the Python service (attach_order_checkout, order_for_capture).

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
