-- One booked one-on-one video session. Scheduled sessions of a mentor (with buffer) or of a student cannot overlap: an exclusion constraint makes it impossible.
select
    id as session_id,
    pack_id,
    mentor_id,
    student_id,
    status::text as status,
    starts_at,
    ends_at,
    reschedule_count,
    canceled_at,
    canceled_by,
    completed_at,
    recording_url is not null as has_recording,
    created_at as booked_at,
    updated_at
from {{ source('app', 'sessions') }}
