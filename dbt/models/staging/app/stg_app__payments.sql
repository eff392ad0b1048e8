-- Money received for an order, as the provider reported it.
select
    id as payment_id,
    order_id,
    student_id,
    provider::text as provider,
    status::text as status,
    amount_cents::bigint as amount_cents,
    refunded_cents::bigint as refunded_cents,
    currency,
    paid_at,
    created_at,
    updated_at
from {{ source('app', 'payments') }}
