-- A student's purchase of a product, priced at creation (grandfathered price, then promotion code).
select
    id as order_id,
    student_id,
    mentor_id,
    product_id,
    seat_reservation_id,
    promotion_code_id,
    provider::text as provider,
    status::text as status,
    list_price_cents::bigint as list_price_cents,
    grandfathered_price_cents::bigint as grandfathered_price_cents,
    discount_cents::bigint as discount_cents,
    amount_cents::bigint as amount_cents,
    currency,
    sessions_count,
    validity_days,
    expires_at,
    paid_at,
    created_at,
    updated_at
from {{ source('app', 'orders') }}
