-- One row per refund of a payment: what this refund gave back and when.
select
    id as payment_refund_id,
    payment_id,
    amount_cents::bigint as amount_cents,
    refunded_total_cents::bigint as refunded_total_cents,
    currency,
    refunded_at
from {{ source('app_private', 'payment_refunds') }}
