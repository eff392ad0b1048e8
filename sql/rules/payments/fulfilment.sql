-- Payments: a completed payment becomes a pack and a seat (fulfil_order), or the order is
-- flagged; a checkout that ended unpaid releases its hold (release_order).

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
