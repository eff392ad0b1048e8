-- A session pack a mentor sells.
select
    id as product_id,
    mentor_id,
    title,
    sessions_count,
    validity_days,
    price_cents::bigint as price_cents,
    currency,
    is_active,
    created_at,
    updated_at
from {{ source('app', 'mentorship_products') }}
