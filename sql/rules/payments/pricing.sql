-- Payments: what an order costs (grandfathered price, promotion codes).

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
