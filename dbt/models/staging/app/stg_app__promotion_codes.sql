-- Discount codes: percent or fixed amount, a validity window, optional redemption cap and product or mentor scope; each student may use a code once.
select
    id as promotion_code_id,
    code,
    percent_off,
    amount_off_cents::bigint as amount_off_cents,
    currency as amount_off_currency,
    valid_from,
    valid_until,
    max_redemptions,
    product_id,
    mentor_id,
    is_active,
    created_at,
    updated_at
from {{ source('app', 'promotion_codes') }}
