-- A student's seat with a mentor: held during checkout, active while a pack is live, in grace after it, then released. One live seat per mentor and student.
select
    id as seat_reservation_id,
    mentor_id,
    student_id,
    status::text as status,
    hold_expires_at,
    activated_at,
    grace_started_at,
    grace_ends_at,
    released_at,
    release_reason,
    created_at,
    updated_at
from {{ source('app', 'seat_reservations') }}
