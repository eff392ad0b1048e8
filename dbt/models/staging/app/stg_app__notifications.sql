-- Outbox: messages written in the same transaction as the change that causes them, delivered by the dispatcher worker.
select
    id as notification_id,
    recipient_id,
    kind::text as kind,
    channel::text as channel,
    status::text as status,
    session_id,
    pack_id,
    send_after,
    attempts,
    next_attempt_at,
    sent_at,
    voided_at,
    last_error is not null as has_error,
    created_at,
    updated_at
from {{ source('app', 'notifications') }}
