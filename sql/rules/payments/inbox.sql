-- Payments: the webhook inbox (record_payment_event) and what each provider event means.
-- The money path: an order is priced and holds a seat (create_order); a verified provider
-- webhook is stored once in the inbox and applied in the same transaction
-- (record_payment_event): payment -> pack and seat, refund -> pack refunded or recorded,
-- checkout expired -> hold released. Exactly once: the inbox is unique per provider event id,
-- and every step also checks the order's state, so a replay under another id changes nothing.

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
