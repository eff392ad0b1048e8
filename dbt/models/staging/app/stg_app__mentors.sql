-- A mentor's public profile and booking settings; every column here is fit for the public catalog. Secrets (calendar credentials) live in private.
select
    id as mentor_id,
    slug,
    public_name,
    time_zone,
    seat_capacity,
    slot_minutes,
    buffer_minutes,
    accepting_students,
    is_active,
    created_at,
    updated_at
from {{ source('app', 'mentors') }}
