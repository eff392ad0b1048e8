-- Sessions a student bought from a mentor; remaining_sessions moves only through session_credit_ledger.
select
    id as pack_id,
    student_id,
    mentor_id,
    product_id,
    order_id,
    seat_reservation_id,
    status::text as status,
    sessions_total,
    remaining_sessions,
    price_cents::bigint as price_cents,
    currency,
    grace_period_hours,
    cancel_notice_hours,
    purchased_at,
    expires_at,
    depleted_at,
    expired_at,
    refunded_at,
    created_at,
    updated_at
from {{ source('app', 'session_packs') }}
